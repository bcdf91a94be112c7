"""The fast template helpers list pages use per row give what the slow, general ones give."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import url_for
from flask_babel import force_locale, format_date, to_user_timezone

from crm.core.templating import format_date as _date
from crm.core.templating import status_badge
from crm.core.urls import inquiry_url
from crm.inquiries.statuses import Status


@pytest.mark.parametrize("reference", ["SAM-2026-0042", "SAM-1999-12345", "a b/ö?&#"])
def test_inquiry_url_is_what_url_for_builds(app, reference):
    with app.test_request_context("/inquiries"):
        assert inquiry_url(reference) == url_for("inquiries.detail", reference=reference)
        again = "SAM-2026-0001"  # the second call reuses the prefix the first one built
        assert inquiry_url(again) == url_for("inquiries.detail", reference=again)


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 in Stockholm, the night clocks change
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # already the new year in Stockholm
        datetime(2026, 6, 30, 22, 15, tzinfo=UTC),  # summer time: already 1 July
    ],
)
def test_date_filter_shows_the_swedish_calendar_day(app, language, moment):
    pattern = {"sv": "medium", "en": "d MMM y"}[language]  # English: day before month
    with app.test_request_context("/"), force_locale(language):
        expected = format_date(to_user_timezone(moment).date(), pattern)
        assert _date(moment) == expected
        assert _date(moment.date()) == format_date(moment.date(), pattern)


def test_status_badge_follows_the_language(app):
    with app.test_request_context("/"):
        with force_locale("sv"):
            swedish = status_badge(Status.IN_DIALOGUE)
        with force_locale("en"):
            english = status_badge(Status.IN_DIALOGUE)
    assert swedish == '<span class="badge status-in_dialogue">I dialog</span>'
    assert english == '<span class="badge status-in_dialogue">In dialogue</span>'


def test_english_dates_are_day_month_year_on_a_24_hour_clock(app):
    from datetime import UTC, date, datetime

    from flask import session

    from crm.core.templating import format_date, format_moment

    with app.test_request_context():
        session["lang"] = "en"
        assert format_moment(datetime(2026, 11, 26, 13, 5, tzinfo=UTC)) == "26 Nov 2026, 14:05"
        assert format_date(date(2026, 11, 26)) == "26 Nov 2026"
    with app.test_request_context():  # Swedish unchanged
        assert format_moment(datetime(2026, 11, 26, 13, 5, tzinfo=UTC)) == "2026-11-26 14:05"


def test_the_whole_country_is_translated_but_the_lan_keep_their_names(app):
    from flask import session

    from crm.regions import region_name

    with app.test_request_context():
        session["lang"] = "en"
        assert region_name("00") == "The whole country"
        assert region_name("01") == "Stockholms län"


def test_every_template_compiles_ahead_of_its_first_use(app):
    from crm.core.templating import compile_templates

    app.jinja_env.cache.clear()
    compiled = compile_templates(app)
    assert compiled > 80  # pages, macros and mail
    assert len(app.jinja_env.cache) == compiled
