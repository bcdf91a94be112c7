"""Every number on the dashboard and in the yearly report leads to the inquiry list filtered
to exactly the inquiries it counts: follow each link, count the list, compare."""

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from crm.inquiries.models import Inquiry
from crm.inquiries.queries import InquiryFilters, filter_conditions
from crm.inquiries.statuses import Outcome, Status
from crm.timeutil import utcnow
from tests.factories import InquiryFactory

# a number that is a link: <a href="…">12</a>, or a chart bar <a href="…" aria-label="…: 12">
NUMBER_LINK = re.compile(r'<a href="(/inquiries\?[^"]*)"[^>]*>(\d+)</a>')
BAR_LINK = re.compile(r'<a href="(/inquiries\?[^"]*)" aria-label="[^"]*: (\d+)"')
REFERENCE = re.compile(r'href="/inquiries/(SAM-\d{4}-\d{4})"')


def at(year, month, day, hour=9, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def seeded(db):
    """Inquiries spread over 2024–2025, months, quarters, categories, län, types, channels,
    outcomes, plus open ones of every age today (fewer than a list page, 50)."""
    kinds = [
        ("research", "museum", "web_form", ["01"]),
        ("exhibition", "university", "email", ["01", "12"]),
        ("education", "museum", "phone", []),
        ("research", "company", "meeting", ["12", "03"]),
    ]
    for index in range(24):
        category, kind, channel, regions = kinds[index % 4]
        outcome = [None, Outcome.AGREED, Outcome.DECLINED, Outcome.WITHDRAWN][index % 4]
        created = at(2025 - index % 2, 1 + index % 12, 1 + index)
        inquiry = InquiryFactory(
            category=category, organisation_type=kind, channel=channel, created_at=created,
            first_response_at=created + timedelta(hours=3 + index),
            status=Status.CLOSED if outcome else Status.IN_DIALOGUE, outcome=outcome,
            closed_at=created + timedelta(days=40) if outcome else None,
        )  # fmt: skip
        inquiry.regions = regions
    now = utcnow()
    for days in (2, 10, 40, 120):  # open, one in each ageing bucket; the old one is late
        InquiryFactory(created_at=now - timedelta(days=days), status=Status.NEW,
                       first_response_due_at=now - timedelta(days=days - 1))  # fmt: skip
    db.session.commit()


def linked_figures(page: str) -> list[tuple[str, int]]:
    found = NUMBER_LINK.findall(page) + BAR_LINK.findall(page)
    return [(html.unescape(url), int(number)) for url, number in found]


def check_every_link(client, db, page: str) -> int:
    """Follow every number's link; the list and its query must count the same. Returns how
    many non-zero figures were checked."""
    figures = linked_figures(page)
    assert figures
    nonzero = 0
    for url, number in figures:
        args = MultiDict(parse_qsl(urlsplit(url).query))
        filters = InquiryFilters.from_args(args)
        assert {key: str(value) for key, value in filters.as_args().items()} == dict(args)
        counted = db.session.scalar(
            select(func.count()).select_from(Inquiry).where(*filter_conditions(filters, None))
        )
        assert counted == number, (url, counted, number)
        listed = client.get(url)
        assert listed.status_code == 200
        assert len(set(REFERENCE.findall(listed.text))) == number, url
        nonzero += number > 0
    return nonzero


@pytest.mark.parametrize("query", ["year=2025", "year=2024", "year=2025&quarter=2"])
def test_every_dashboard_figure_leads_to_as_many_inquiries(client, db, login_as, seeded, query):
    login_as("board")
    page = client.get(f"/dashboard?{query}").text
    nonzero = check_every_link(client, db, page)
    assert nonzero >= 8
    # the total, each chart, ageing, outcomes per year and late ones are among them
    urls = [url for url, _ in linked_figures(page)]
    for key in ("month=", "category=", "region=", "organisation_type=", "age=", "outcome_year=",
                "overdue=1"):  # fmt: skip
        assert any(key in url for url in urls), key


def test_every_yearly_report_figure_leads_to_as_many_inquiries(client, db, login_as, seeded):
    login_as("board")
    page = client.get("/dashboard/arsrapport?year=2025").text
    assert check_every_link(client, db, page) >= 10
    urls = [url for url, _ in linked_figures(page)]
    for key in ("channel=", "category=", "region=", "organisation_type=", "outcome_year="):
        assert any(key in url for url in urls), key


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"year": "2025", "quarter": "2"}, {"year": 2025, "quarter": 2}),
        ({"quarter": "2"}, {}),  # a quarter without its year means nothing
        ({"year": "2025", "quarter": "5"}, {"year": 2025}),
        ({"year": "2025", "month": "12"}, {"year": 2025, "month": 12}),
        ({"year": "2025", "month": "13"}, {"year": 2025}),
        ({"year": "2025", "month": "x"}, {"year": 2025}),
        ({"channel": "phone"}, {"channel": "phone"}),
        ({"channel": "fax"}, {}),
        ({"outcome_year": "2025"}, {"outcome_year": 2025}),
        ({"outcome_year": "1850"}, {}),
        ({"age": "3"}, {"age": "3"}),
        ({"age": "4"}, {}),
    ],
)
def test_drill_down_filters_are_validated(args, expected):
    filters = InquiryFilters.from_args(MultiDict(args))
    assert filters.as_args() == expected


def test_month_and_quarter_cover_exactly_their_months(db):
    # months begin at midnight in Stockholm (UTC+1 in winter): 22:30 UTC on the 31st is still
    # January there, 23:30 UTC already February
    january = InquiryFactory(created_at=at(2025, 1, 31, 22, 30))
    february = InquiryFactory(created_at=at(2025, 1, 31, 23, 30))
    december = InquiryFactory(created_at=at(2025, 12, 31, 22, 30))

    def listed(**args):
        filters = InquiryFilters.from_args(MultiDict({k: str(v) for k, v in args.items()}))
        query = select(Inquiry.id).where(*filter_conditions(filters, None))
        return set(db.session.scalars(query))

    assert listed(year=2025, month=1) == {january.id}
    assert listed(year=2025, month=2) == {february.id}
    assert listed(year=2025, quarter=1) == {january.id, february.id}
    assert listed(year=2025, month=12) == listed(year=2025, quarter=4) == {december.id}
