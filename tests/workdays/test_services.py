"""The working-day clock, rule by rule: which days count, when a response is due, pauses.

Dates are real: 2026 has Easter on 5 April, midsommarafton on Friday 19 June, julafton and
nyårsafton on Thursdays, and summer time from 29 March to 25 October.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from config import ConfigError, load_config
from crm.audit.models import AuditLog
from crm.choices import Priority
from crm.errors import DomainError
from crm.timeutil import local_date, local_now, local_today
from crm.workdays.models import ClosureDay
from crm.workdays.services import (
    WorkingDayCounter,
    add_closure_day,
    add_working_days,
    closure_days,
    days_given_back,
    delete_closure_day,
    end_of_working_day,
    holiday_name,
    holidays_in,
    intake_day,
    is_working_day,
    list_closure_days,
    next_working_day,
    response_due_at,
    response_due_for,
    target_working_days,
    working_days_between,
)
from tests.factories import UserFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NONE: frozenset[date] = frozenset()


def se(y, m, d, hh=10, mm=0) -> datetime:
    """A moment in Swedish time (aware)."""
    return datetime(y, m, d, hh, mm, tzinfo=STOCKHOLM)


def utc(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def close(y, m, d) -> datetime:
    """17:00 Swedish time on that day, in UTC."""
    return se(y, m, d, 17).astimezone(UTC)


# ---- which days are working days -----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        (date(2026, 11, 30), True, "an ordinary Monday"),
        (date(2026, 12, 4), True, "an ordinary Friday"),
        (date(2026, 11, 28), False, "Saturday"),
        (date(2026, 11, 29), False, "Sunday"),
        (date(2026, 1, 1), False, "nyårsdagen"),
        (date(2026, 1, 5), True, "trettondagsafton is a working day"),
        (date(2026, 1, 6), False, "trettondedag jul"),
        (date(2026, 4, 2), True, "skärtorsdagen is a working day"),
        (date(2026, 4, 3), False, "långfredagen"),
        (date(2026, 4, 6), False, "annandag påsk"),
        (date(2027, 3, 26), False, "långfredagen 2027 (Easter moves)"),
        (date(2027, 3, 29), False, "annandag påsk 2027"),
        (date(2026, 4, 30), True, "valborgsmässoafton is a working day"),
        (date(2026, 5, 1), False, "första maj"),
        (date(2026, 5, 14), False, "Kristi himmelsfärdsdag"),
        (date(2026, 5, 25), True, "annandag pingst is no holiday since 2005"),
        (date(2025, 6, 6), False, "nationaldagen on a Friday"),
        (date(2026, 6, 18), True, "the day before midsommarafton"),
        (date(2026, 6, 19), False, "midsommarafton (de facto)"),
        (date(2026, 12, 23), True, "the day before julafton"),
        (date(2026, 12, 24), False, "julafton (de facto)"),
        (date(2026, 12, 25), False, "juldagen"),
        (date(2025, 12, 26), False, "annandag jul on a Friday"),
        (date(2026, 12, 28), True, "a mellandag"),
        (date(2026, 12, 31), False, "nyårsafton (de facto)"),
        (date(2027, 1, 1), False, "nyårsdagen 2027"),
    ],
)
def test_working_days_are_weekdays_that_are_not_swedish_holidays(day, working, why):
    assert is_working_day(day, NONE) is working, why


def test_the_de_facto_holidays_are_why_both_categories_are_used():
    """midsommarafton, julafton and nyårsafton are not public holidays in law."""
    public_only = holidays.country_holidays("SE", years=2026)
    for eve in (date(2026, 6, 19), date(2026, 12, 24), date(2026, 12, 31)):
        assert eve not in public_only
        assert not is_working_day(eve, NONE)


def test_a_closure_day_is_not_a_working_day():
    mellandag = date(2026, 12, 28)
    assert is_working_day(mellandag, NONE)
    assert not is_working_day(mellandag, {mellandag})
    assert is_working_day(date(2026, 12, 29), {mellandag})


@pytest.mark.parametrize(
    ("day", "after", "expected"),
    [
        (date(2026, 11, 30), 0, date(2026, 11, 30)),
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday → Monday
        (date(2026, 12, 23), 1, date(2026, 12, 28)),  # julafton, juldagen, weekend
        (date(2026, 12, 23), 3, date(2026, 12, 30)),
        (date(2026, 12, 30), 1, date(2027, 1, 4)),  # nyårsafton, nyårsdagen, weekend
        (date(2026, 12, 30), 3, date(2027, 1, 7)),  # trettondedag jul on Wednesday
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Easter
        (date(2026, 6, 18), 1, date(2026, 6, 22)),  # midsommar
    ],
)
def test_add_working_days(day, after, expected):
    assert add_working_days(day, after, NONE) == expected


def test_next_working_day_is_never_the_day_itself():
    assert next_working_day(date(2026, 11, 30), NONE) == date(2026, 12, 1)
    assert next_working_day(date(2026, 12, 24), {date(2026, 12, 28)}) == date(2026, 12, 29)


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError, match=r"^working_days must be zero or more$"):
        add_working_days(date(2026, 11, 30), -1, NONE)


def test_holidays_are_named_in_both_languages():
    assert holiday_name(date(2026, 6, 19), "sv") == "Midsommarafton"
    assert holiday_name(date(2026, 6, 19), "en") == "Midsummer Eve"
    assert holiday_name(date(2026, 12, 24), "en") == "Christmas Eve"
    assert holiday_name(date(2026, 6, 18)) is None
    days = holidays_in(2027, "sv")
    assert days[0] == (date(2027, 1, 1), "Nyårsdagen")
    assert days[-1] == (date(2027, 12, 31), "Nyårsafton")
    assert [d for d, _ in days] == sorted(d for d, _ in days)


# ---- the day a message counts as received ----------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected", "why"),
    [
        (se(2026, 11, 30, 9), date(2026, 11, 30), "Monday morning"),
        (se(2026, 11, 30, 16, 59), date(2026, 11, 30), "a minute before the end"),
        (se(2026, 11, 30, 17), date(2026, 12, 1), "17:00 sharp is after hours"),
        (se(2026, 11, 30, 23, 30), date(2026, 12, 1), "late in the evening"),
        (se(2026, 12, 1, 2), date(2026, 12, 1), "at night before the working day"),
        (se(2026, 11, 27, 18), date(2026, 11, 30), "Friday evening"),
        (se(2026, 11, 28, 12), date(2026, 11, 30), "Saturday"),
        (se(2026, 11, 29, 23, 59), date(2026, 11, 30), "Sunday night"),
        (se(2026, 12, 24, 10), date(2026, 12, 28), "julafton"),
        (se(2026, 4, 3, 10), date(2026, 4, 7), "långfredagen"),
        # 22:30 UTC on Monday 15 June is 00:30 on Tuesday in Sweden
        (utc(2026, 6, 15, 22, 30), date(2026, 6, 16), "UTC's Monday, Sweden's Tuesday night"),
        # 15:30 UTC is 16:30 in winter (open) but 17:30 in summer (closed)
        (utc(2026, 3, 23, 15, 30), date(2026, 3, 23), "16:30 in winter"),
        (utc(2026, 3, 30, 15, 30), date(2026, 3, 31), "17:30 in summer"),
    ],
)
def test_intake_day(received, expected, why):
    assert intake_day(received, NONE) == expected, why


def test_a_message_on_a_closure_day_counts_from_the_next_working_day():
    assert intake_day(se(2026, 12, 28, 10), {date(2026, 12, 28)}) == date(2026, 12, 29)


# ---- when the response is due ------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "days", "expected", "why"),
    [
        (se(2026, 11, 30, 10), 5, close(2026, 12, 7), "a week later"),
        (se(2026, 11, 30, 10), 0, close(2026, 11, 30), "zero days: the end of the same day"),
        (se(2026, 11, 30, 16, 59), 1, close(2026, 12, 1), "before the end of the day"),
        (se(2026, 11, 30, 17), 1, close(2026, 12, 2), "at the end of the day"),
        (se(2026, 11, 30, 23, 30), 1, close(2026, 12, 2), "late in the evening"),
        (se(2026, 12, 1, 2), 1, close(2026, 12, 2), "at night"),
        (se(2026, 11, 27, 10), 1, close(2026, 11, 30), "Friday morning → Monday"),
        (se(2026, 11, 27, 18), 1, close(2026, 12, 1), "Friday evening → Tuesday"),
        (se(2026, 11, 28, 12), 1, close(2026, 12, 1), "Saturday → Tuesday"),
        (se(2026, 11, 29, 23, 59), 0, close(2026, 11, 30), "Sunday night, zero days"),
        (se(2026, 12, 23, 10), 2, close(2026, 12, 29), "over Christmas"),
        (se(2026, 12, 23, 10), 5, close(2027, 1, 5), "over the year boundary"),
        (se(2026, 12, 30, 10), 2, close(2027, 1, 5), "nyårsafton and nyårsdagen"),
        (se(2026, 12, 30, 10), 3, close(2027, 1, 7), "trettondedag jul"),
        (se(2026, 12, 31, 23, 59), 1, close(2027, 1, 5), "nyårsafton night"),
        (se(2026, 12, 24, 10), 1, close(2026, 12, 29), "received on julafton"),
        (se(2026, 4, 2, 10), 1, close(2026, 4, 7), "skärtorsdagen over Easter"),
        (se(2026, 4, 2, 18), 1, close(2026, 4, 8), "skärtorsdagen evening"),
        (se(2026, 4, 30, 10), 1, close(2026, 5, 4), "första maj"),
        (se(2026, 5, 13, 10), 1, close(2026, 5, 15), "Kristi himmelsfärdsdag"),
        (se(2026, 6, 18, 10), 1, close(2026, 6, 22), "midsommarafton"),
        (se(2026, 6, 18, 10), 2, close(2026, 6, 23), "midsommar week"),
    ],
)
def test_response_due_at(received, days, expected, why):
    due = response_due_at(received, days, NONE)
    assert due == expected, why
    assert due.tzinfo is UTC


@pytest.mark.parametrize(
    ("received", "days", "closures", "expected", "why"),
    [
        (se(2026, 12, 23, 10), 2, {date(2026, 12, 28)}, close(2026, 12, 30), "a mellandag"),
        (se(2026, 12, 28, 10), 1, {date(2026, 12, 28)}, close(2026, 12, 30), "received on it"),
        (se(2026, 11, 30, 10), 1, {date(2026, 12, 1)}, close(2026, 12, 2), "on the due day"),
        (
            se(2026, 12, 23, 10), 3, {date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30)},
            close(2027, 1, 7), "a closed week between the holidays",
        ),
    ],
)  # fmt: skip
def test_closure_days_are_skipped(received, days, closures, expected, why):
    assert response_due_at(received, days, closures) == expected, why


@pytest.mark.parametrize(
    ("received", "days", "due_utc", "why"),
    [
        (se(2026, 3, 27, 10), 0, utc(2026, 3, 27, 16), "Friday before: winter, 16:00 UTC"),
        (se(2026, 3, 27, 10), 1, utc(2026, 3, 30, 15), "Monday after: summer, 15:00 UTC"),
        (utc(2026, 3, 29, 0, 30), 0, utc(2026, 3, 30, 15), "01:30 CET, before the change"),
        (utc(2026, 3, 29, 1, 30), 0, utc(2026, 3, 30, 15), "03:30 CEST, after the change"),
        (se(2026, 10, 23, 10), 0, utc(2026, 10, 23, 15), "Friday before: summer, 15:00 UTC"),
        (se(2026, 10, 23, 10), 1, utc(2026, 10, 26, 16), "Monday after: winter, 16:00 UTC"),
        (utc(2026, 10, 25, 0, 30), 0, utc(2026, 10, 26, 16), "02:30 CEST, first time"),
        (utc(2026, 10, 25, 1, 30), 0, utc(2026, 10, 26, 16), "02:30 CET, second time"),
        (utc(2026, 10, 26, 15, 30), 0, utc(2026, 10, 26, 16), "16:30 CET on Monday: open"),
        (utc(2026, 10, 23, 15, 30), 0, utc(2026, 10, 26, 16), "17:30 CEST on Friday: closed"),
    ],
)
def test_the_end_of_the_working_day_is_swedish_time_across_summer_time(
    received, days, due_utc, why
):
    assert response_due_at(received, days, NONE) == due_utc, why


def test_the_end_of_the_working_day_is_a_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKDAY_ENDS_AT", time(16, 0))
    with app.app_context():
        assert end_of_working_day(date(2026, 11, 30)) == utc(2026, 11, 30, 15)
        # 16:30 is after hours when the day ends at 16:00
        assert response_due_at(se(2026, 11, 30, 16, 30), 1, NONE) == se(2026, 12, 2, 16)
    assert end_of_working_day(date(2026, 11, 30)) == utc(2026, 11, 30, 16)  # outside: 17:00


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        response_due_at(datetime(2026, 11, 30, 10), 1, NONE)


@settings(max_examples=300, deadline=None)
@given(
    received=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=0, max_value=15),
    closures=st.frozensets(
        st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 2, 28)), max_size=20
    ),
)
def test_every_due_moment_is_the_end_of_a_working_day_n_days_on(received, days, closures):
    due = response_due_at(received, days, closures)
    local = due.astimezone(STOCKHOLM)
    assert local.time() == time(17, 0)
    assert is_working_day(local.date(), closures)
    assert due > received
    # the rest of the intake day, then n whole working days
    assert working_days_between(received, due, closures) == days + 1
    assert response_due_at(received + timedelta(hours=7), days, closures) >= due


# ---- measuring time and pauses -----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "closures", "expected", "why"),
    [
        (se(2026, 11, 30, 10), se(2026, 11, 30, 16, 59), NONE, 0, "within one day"),
        (se(2026, 11, 30, 10), se(2026, 11, 30, 17), NONE, 1, "up to the end: it counts"),
        (se(2026, 11, 30, 17), se(2026, 12, 1, 17), NONE, 1, "from the end: it does not"),
        (se(2026, 11, 27, 18), se(2026, 11, 30, 8), NONE, 0, "over a weekend"),
        (se(2026, 11, 30, 10), se(2026, 12, 7, 10), NONE, 5, "a week"),
        (se(2026, 12, 23, 10), se(2026, 12, 28, 10), NONE, 1, "over Christmas"),
        (se(2026, 12, 23, 10), se(2027, 1, 8, 10), NONE, 7, "over the year boundary"),
        (se(2026, 11, 30, 10), se(2026, 12, 7, 10), {date(2026, 12, 2)}, 4, "a closure day"),
        (se(2026, 3, 27, 18), se(2026, 3, 30, 16, 59), NONE, 0, "over the spring change"),
        (se(2026, 3, 27, 18), se(2026, 3, 30, 17), NONE, 1, "to 17:00 CEST"),
        (se(2026, 10, 23, 18), se(2026, 10, 26, 17), NONE, 1, "to 17:00 CET"),
    ],
)
def test_working_days_between(start, end, closures, expected, why):
    assert working_days_between(start, end, closures) == expected, why


@settings(max_examples=300, deadline=None)
@given(
    spans=st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                         timezones=st.just(UTC)),
            st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
        ),
        min_size=1, max_size=8,
    ),
    closures=st.frozensets(
        st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 3, 1)), max_size=20
    ),
)  # fmt: skip
def test_the_counter_for_many_spans_counts_as_working_days_between(spans, closures):
    spans = [(start, start + length) for start, length in spans]
    counter = WorkingDayCounter(spans, closures)
    for start, end in spans:
        assert counter.between(start, end) == working_days_between(start, end, closures)


@pytest.mark.parametrize(
    ("start", "end", "closures", "expected", "why"),
    [
        (se(2026, 11, 30, 10), se(2026, 11, 30, 17), NONE, 1, "up to the end: it counts"),
        (se(2026, 11, 30, 17), se(2026, 12, 1, 17), NONE, 1, "from the end: it does not"),
        (se(2026, 12, 23, 10), se(2027, 1, 8, 10), NONE, 7, "over the year boundary"),
        (se(2026, 11, 30, 10), se(2026, 12, 7, 10), {date(2026, 12, 2)}, 4, "a closure day"),
        (se(2026, 3, 27, 18), se(2026, 3, 30, 17), NONE, 1, "to 17:00 CEST"),
    ],
)
def test_the_counter_for_many_spans(start, end, closures, expected, why):
    wider = (se(2026, 1, 1), se(2027, 6, 1))  # other spans do not change a span's count
    assert WorkingDayCounter([wider, (start, end)], closures).between(start, end) == expected, why
    with pytest.raises(ValueError, match=r"^end is before start$"):
        WorkingDayCounter([wider], closures).between(end, start)
    assert WorkingDayCounter([], closures).ends == []


def test_working_days_between_refuses_an_end_before_the_start():
    with pytest.raises(ValueError, match=r"^end is before start$"):
        working_days_between(se(2026, 12, 1), se(2026, 11, 30), NONE)


@pytest.mark.parametrize(
    ("due", "paused_from", "paused_until", "closures", "expected", "why"),
    [
        (close(2026, 12, 4), se(2026, 11, 30, 10), se(2026, 11, 30, 15), NONE,
         0, "paused within a day: nothing given back"),
        (close(2026, 12, 4), se(2026, 11, 30, 10), se(2026, 12, 1, 9), NONE,
         1, "paused over Monday's end: one day"),
        (close(2026, 12, 4), se(2026, 11, 27, 18), se(2026, 11, 30, 8), NONE,
         0, "paused over a weekend: nothing"),
        (close(2026, 12, 1), se(2026, 11, 30, 10), se(2026, 12, 3, 10), NONE,
         3, "resumed after the old due moment"),
        (close(2026, 12, 22), se(2026, 12, 21, 10), se(2026, 12, 28, 10), NONE,
         3, "paused over Christmas"),
        (close(2026, 12, 30), se(2026, 12, 29, 10), se(2027, 1, 5, 10), NONE,
         3, "paused over the year boundary"),
        (close(2026, 12, 1), se(2026, 11, 30, 10), se(2026, 12, 3, 10), {date(2026, 12, 2)},
         2, "a closure day is not given back"),
        (close(2026, 11, 30), se(2026, 12, 1, 10), se(2026, 12, 4, 10), NONE,
         0, "already overdue: a pause does not undo it"),
        (close(2026, 11, 30), close(2026, 11, 30), se(2026, 12, 4, 10), NONE,
         0, "paused at the due moment: too late"),
    ],
)  # fmt: skip
def test_days_given_back(due, paused_from, paused_until, closures, expected, why):
    assert days_given_back(due, paused_from, paused_until, closures) == expected, why


def test_a_pause_that_ends_before_it_begins_is_refused():
    with pytest.raises(ValueError, match=r"^paused_until is before paused_from$"):
        days_given_back(close(2026, 12, 4), se(2026, 12, 1), se(2026, 11, 30), NONE)


@settings(max_examples=300, deadline=None)
@given(
    received=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=0, max_value=10),
    pause_starts=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    pause_lasts=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
)
def test_a_pause_leaves_the_working_days_that_remained(received, days, pause_starts, pause_lasts):
    """Adding the days given back to the target leaves, after the pause, exactly the working
    days that remained when it began."""
    due = response_due_at(received, days, NONE)
    paused_from = received + pause_starts
    paused_until = paused_from + pause_lasts
    given = days_given_back(due, paused_from, paused_until, NONE)
    moved = response_due_at(received, days + given, NONE)
    if due <= paused_from:
        assert given == 0
    else:
        remaining = working_days_between(paused_from, due, NONE)
        assert working_days_between(paused_until, moved, NONE) == remaining
        assert moved.astimezone(STOCKHOLM).time() == time(17, 0)


# ---- targets and settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "expected"),
    [(Priority.LOW, 5), (Priority.NORMAL, 5), (Priority.HIGH, 2), ("high", 2), ("low", 5)],
)
def test_default_targets_per_priority(priority, expected):
    assert target_working_days(priority, load_config("test").as_dict()) == expected


def test_targets_come_from_the_app_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "RESPONSE_TARGET_DAYS_HIGH", 1)
    with app.app_context():
        assert target_working_days(Priority.HIGH) == 1
        assert target_working_days(Priority.NORMAL) == 5


def test_an_unknown_priority_is_refused():
    with pytest.raises(ValueError, match="urgent"):
        target_working_days("urgent", load_config("test").as_dict())


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, (5, 5, 2)),
        ({"RESPONSE_TARGET_DAYS_HIGH": "1"}, (5, 5, 1)),
        ({"RESPONSE_TARGET_WORKING_DAYS": "7"}, (7, 7, 2)),  # the older, single setting
        ({"RESPONSE_TARGET_WORKING_DAYS": "7", "RESPONSE_TARGET_DAYS_LOW": "10"}, (10, 7, 2)),
        ({"RESPONSE_TARGET_DAYS_NORMAL": "0"}, (5, 0, 2)),
    ],
)
def test_target_settings_from_the_environment(monkeypatch, environment, expected):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = load_config("test").as_dict()
    assert tuple(target_working_days(p, config) for p in ("low", "normal", "high")) == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RESPONSE_TARGET_DAYS_HIGH", "-1", "zero or more"),
        ("RESPONSE_TARGET_DAYS_LOW", "fem", "whole number"),
        ("WORKDAY_ENDS_AT", "5 pm", "HH:MM"),
        ("WORKDAY_ENDS_AT", "25:00", "HH:MM"),
        ("WORKDAY_ENDS_AT", "17", "HH:MM"),
        ("WORKDAY_ENDS_AT", "00:00", "later than 00:00"),
    ],
)
def test_bad_settings_are_refused_clearly(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config("test")


def test_the_end_of_the_working_day_setting(monkeypatch):
    assert time(17, 0) == load_config("test").WORKDAY_ENDS_AT
    monkeypatch.setenv("WORKDAY_ENDS_AT", "16:30")
    assert time(16, 30) == load_config("test").WORKDAY_ENDS_AT


# ---- Swedish time -------------------------------------------------------------------------


def test_local_now_and_today_are_swedish_without_an_app():
    before = datetime.now(STOCKHOLM).date()
    now, today = local_now(), local_today()
    after = datetime.now(STOCKHOLM).date()
    assert now.tzinfo == STOCKHOLM
    assert now.utcoffset() in {timedelta(hours=1), timedelta(hours=2)}
    assert today in {before, after}


# At every moment one of these two zones (UTC+14 and UTC-12) has another date than UTC, so
# a "today" taken from UTC is caught whenever the test runs.
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_local_now_and_today_follow_the_app_time_zone(app, monkeypatch, zone):
    with app.app_context():
        assert local_now().tzinfo == STOCKHOLM
        monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", zone)
        before = datetime.now(ZoneInfo(zone)).date()
        now, today = local_now(), local_today()
        after = datetime.now(ZoneInfo(zone)).date()
    assert now.tzinfo == ZoneInfo(zone)
    assert today in {before, after}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 6, 15, 21, 59), date(2026, 6, 15)),
        (utc(2026, 6, 15, 22, 0), date(2026, 6, 16)),  # midnight in summer time
        (utc(2026, 12, 31, 22, 59), date(2026, 12, 31)),
        (utc(2026, 12, 31, 23, 0), date(2027, 1, 1)),  # midnight in winter: a new year
    ],
)
def test_local_date_is_the_swedish_date_of_a_moment(moment, expected):
    assert local_date(moment) == expected


# ---- closure days in the database ------------------------------------------------------------


def future_weekdays(count: int, after_days: int = 30) -> list[date]:
    """Working days (without closures) at least `after_days` from today, whatever today is."""
    day, found = local_today() + timedelta(days=after_days), []
    while len(found) < count:
        if is_working_day(day, NONE):
            found.append(day)
        day += timedelta(days=1)
    return found


def next_weekday_holiday() -> date:
    today = local_today()
    return next(
        day
        for year in (today.year, today.year + 1)
        for day, _ in holidays_in(year)
        if day > today and day.weekday() < 5
    )


def test_closure_days_are_read_by_range_in_one_query(db, count_queries):
    for day in (date(2026, 12, 28), date(2026, 12, 29), date(2027, 2, 1)):
        db.session.add(ClosureDay(day=day, reason="Stängt"))
    db.session.flush()
    with count_queries() as queries:
        assert closure_days(date(2026, 12, 29), date(2027, 2, 1)) == {
            date(2026, 12, 29),
            date(2027, 2, 1),
        }
    assert queries() == 1
    assert closure_days(date(2026, 12, 28), date(2026, 12, 28)) == {date(2026, 12, 28)}
    assert closure_days(start=date(2027, 1, 1)) == {date(2027, 2, 1)}
    assert closure_days(end=date(2026, 12, 28)) == {date(2026, 12, 28)}
    assert len(closure_days()) == 3


def test_response_due_for_uses_the_priority_and_the_stored_closure_days(
    app, db, count_queries, monkeypatch
):
    db.session.add(ClosureDay(day=date(2026, 12, 28), reason="Mellandag"))
    db.session.flush()
    with count_queries() as queries:
        high = response_due_for(se(2026, 12, 23, 10), Priority.HIGH)
    assert queries() == 1
    assert high == close(2026, 12, 30)  # 2 days, with 28 December closed
    assert response_due_for(se(2026, 12, 23, 10), "normal") == close(2027, 1, 7)
    monkeypatch.setitem(app.config, "RESPONSE_TARGET_DAYS_HIGH", 0)
    assert response_due_for(se(2026, 12, 23, 10), Priority.HIGH) == close(2026, 12, 23)


def test_adding_a_closure_day_is_stored_and_audited(db):
    admin = UserFactory(role="admin")
    day = future_weekdays(1)[0]
    closure = add_closure_day(day, "Personaldag", admin)
    stored = db.session.scalar(select(ClosureDay))
    assert (stored.id, stored.day, stored.reason, stored.created_by_id) == (
        closure.id,
        day,
        "Personaldag",
        admin.id,
    )
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "closure_day_added"))
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        admin.id,
        "ClosureDay",
        str(closure.id),
    )
    assert entry.details == {"day": day.isoformat(), "reason": "Personaldag"}


def test_today_may_be_closed_when_it_is_a_weekday(db):
    today = local_today()
    admin = UserFactory(role="admin")
    if is_working_day(today, NONE):
        assert add_closure_day(today, "Stängt i dag", admin).day == today
    else:
        with pytest.raises(DomainError):
            add_closure_day(today, "Stängt i dag", admin)


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        (lambda: local_today() - timedelta(days=1), "redan varit"),
        (lambda: local_today() - timedelta(days=400), "redan varit"),
        (
            lambda: next(
                local_today() + timedelta(days=n)
                for n in range(1, 8)
                if (local_today() + timedelta(days=n)).weekday() == 5
            ),
            "lördag eller söndag",
        ),
        (
            lambda: next(
                local_today() + timedelta(days=n)
                for n in range(1, 8)
                if (local_today() + timedelta(days=n)).weekday() == 6
            ),
            "lördag eller söndag",
        ),
        (next_weekday_holiday, "redan en helgdag"),
    ],
    ids=["yesterday", "last-year", "saturday", "sunday", "holiday"],
)
def test_days_that_cannot_be_closure_days_are_refused_beside_the_date(db, pick, message):
    admin = UserFactory(role="admin")
    with pytest.raises(DomainError, match=message) as refused:
        add_closure_day(pick(), "Stängt", admin)
    assert refused.value.field == "day"
    assert db.session.scalar(select(ClosureDay)) is None
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "closure_day_added")) is None


def test_a_refused_holiday_is_named(db):
    day = next_weekday_holiday()
    with pytest.raises(DomainError, match=re.escape(f"({holiday_name(day)})")):
        add_closure_day(day, "Stängt", UserFactory(role="admin"))


def test_the_same_day_twice_is_refused(db):
    admin = UserFactory(role="admin")
    day = future_weekdays(1)[0]
    add_closure_day(day, "Personaldag", admin)
    with pytest.raises(DomainError, match="redan en stängningsdag") as refused:
        add_closure_day(day, "Igen", admin)
    assert refused.value.field == "day"
    assert [row.reason for row in db.session.scalars(select(ClosureDay))] == ["Personaldag"]


def test_upcoming_and_past_closure_days(db):
    today = local_today()
    for offset in (-400, -3, 0, 10, 40):
        db.session.add(ClosureDay(day=today + timedelta(days=offset), reason=str(offset)))
    db.session.flush()
    upcoming, past = list_closure_days()
    assert [row.reason for row in upcoming] == ["0", "10", "40"]
    assert [row.reason for row in past] == ["-3", "-400"]


def test_an_upcoming_closure_day_can_be_deleted_and_it_is_audited(db):
    admin = UserFactory(role="admin")
    closure = add_closure_day(future_weekdays(1)[0], "Personaldag", admin)
    day = closure.day
    delete_closure_day(closure, admin)
    assert db.session.scalar(select(ClosureDay)) is None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "closure_day_deleted"))
    assert entry.actor_id == admin.id
    assert entry.details == {"day": day.isoformat(), "reason": "Personaldag"}


def test_a_past_closure_day_stays(db):
    admin = UserFactory(role="admin")
    closure = ClosureDay(day=local_today() - timedelta(days=1), reason="Förra veckan")
    db.session.add(closure)
    db.session.flush()
    with pytest.raises(DomainError, match="har varit"):
        delete_closure_day(closure, admin)
    assert db.session.scalar(select(ClosureDay)) is closure


def test_a_holiday_in_an_unknown_language_is_named_in_swedish():
    midsummer_eve = date(2026, 6, 19)
    assert holiday_name(midsummer_eve, "de") == holiday_name(midsummer_eve, "sv")
    assert holiday_name(midsummer_eve, "sv") != holiday_name(midsummer_eve, "en")
    assert holidays_in(2026, "de") == holidays_in(2026, "sv")


def test_closure_days_are_listed_soonest_first_and_today_can_still_be_removed(app, db):
    from crm.models import AuditLog
    from crm.workdays.models import ClosureDay
    from crm.workdays.services import delete_closure_day, list_closure_days

    today = local_today()
    rows = [ClosureDay(day=today + timedelta(days=n), reason=f"{n}") for n in (9, 0, 3)]
    db.session.add_all(rows)
    db.session.flush()
    upcoming, past = list_closure_days()
    assert [row.reason for row in upcoming] == ["0", "3", "9"]
    assert past == []
    delete_closure_day(rows[1], None)  # today's
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "closure_day_deleted"))
    assert entry.object_id == str(rows[1].id)
    assert entry.details["day"] == today.isoformat()


def test_a_closure_day_added_by_the_system_has_no_author(app, db):
    from crm.workdays.services import add_closure_day

    day = next_working_day(local_today() + timedelta(days=14), NONE)
    with app.test_request_context():
        closure = add_closure_day(day, "Flytt", None)
    assert closure.created_by_id is None
