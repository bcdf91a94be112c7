"""The Swedish working-day clock: when a first response is due, counted in working days.

A working day is Monday–Friday that is neither a Swedish public holiday nor a closure day the
admin has added. The holidays are the `holidays` package's Swedish "public" and "de_facto"
categories together: the de facto set adds midsommarafton, julafton and nyårsafton, which are
not public holidays by law but on which no office is open.

The clock ticks once per working day, at its end (`WORKDAY_ENDS_AT`, default 17:00, Swedish
time). Every rule below follows from that one picture:

- A message counts as received on the first working day that has not yet ended when it
  arrives (its *intake day*): during a working day that is the same day; in the evening, at
  night after the day's end, on a weekend, a holiday or a closure day it is the next working
  day, as a helpdesk treats mail that arrives after hours. A message at 17:00 sharp is after
  hours. A message at 03:00 on a Tuesday is received on that Tuesday.
- The response is due at the end of the n-th working day after the intake day. Friday 18:00
  with one working day is therefore due Tuesday 17:00, exactly like Monday 08:00.
- A pause (`on_hold`) gives back every working day that ended while the inquiry was paused:
  whole working days, counted like the target. A pause from Friday evening to Monday morning
  gives back nothing; one across Monday's 17:00 gives back one day.

Everything here is pure except `closure_days` and the admin verbs at the end, which read or
write the database, and the functions that fall back on the app's settings when there is an
app context (time zone, end of the working day, targets). Times passed in must be aware;
results are aware UTC datetimes, as stored.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Container, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from crm.audit.services import audit
from crm.choices import Priority
from crm.errors import DomainError
from crm.extensions import db
from crm.timeutil import local_date, local_today, local_zone, to_local
from crm.workdays.models import ClosureDay

DEFAULT_WORKDAY_END = time(17, 0)
HOLIDAY_CATEGORIES = ("public", "de_facto")
# The holidays package names its languages so; the UI's "en" is its "en_US".
HOLIDAY_LANGUAGES = {"sv": "sv", "en": "en_US"}
SATURDAY = 5


# ---- Swedish time ------------------------------------------------------------------------


def workday_end() -> time:
    """When the working day ends (WORKDAY_ENDS_AT), 17:00 outside an app."""
    if has_app_context():
        return current_app.config.get("WORKDAY_ENDS_AT", DEFAULT_WORKDAY_END)
    return DEFAULT_WORKDAY_END


def end_of_working_day(day: date) -> datetime:
    """The moment `day`'s working day ends, in UTC (16:00 UTC in winter, 15:00 in summer)."""
    return datetime.combine(day, workday_end(), tzinfo=local_zone()).astimezone(UTC)


# ---- which days count --------------------------------------------------------------------


@lru_cache(maxsize=64)
def _holidays(year: int, language: str = "sv") -> dict[date, str]:
    """The Swedish public and de facto holidays of one year, by date (computed once a year)."""
    calendar = holidays.country_holidays(
        "SE", years=year, categories=HOLIDAY_CATEGORIES, language=language
    )
    return dict(sorted(calendar.items()))


def is_holiday(day: date) -> bool:
    """A Swedish public holiday or a de facto one (midsommarafton, julafton, nyårsafton)."""
    return day in _holidays(day.year, "sv")


def holiday_name(day: date, language: str = "sv") -> str | None:
    """The holiday's name in "sv" or "en", or None on an ordinary day."""
    return _holidays(day.year, HOLIDAY_LANGUAGES.get(language, "sv")).get(day)


def holidays_in(year: int, language: str = "sv") -> list[tuple[date, str]]:
    """Every Swedish holiday of the year, in date order, named in "sv" or "en"."""
    return list(_holidays(year, HOLIDAY_LANGUAGES.get(language, "sv")).items())


def is_working_day(day: date, closures: Container[date]) -> bool:
    """Monday–Friday, not a Swedish holiday (public or de facto), not a closure day."""
    return day.weekday() < SATURDAY and not is_holiday(day) and day not in closures


def next_working_day(day: date, closures: Container[date]) -> date:
    """The first working day after `day` (never `day` itself)."""
    day += timedelta(days=1)
    while not is_working_day(day, closures):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, working_days: int, closures: Container[date]) -> date:
    """The `working_days`-th working day after `day`; `day` itself when it is zero."""
    if working_days < 0:
        raise ValueError("working_days must be zero or more")
    for _step in range(working_days):
        day = next_working_day(day, closures)
    return day


# ---- the clock ---------------------------------------------------------------------------


def intake_day(received_at: datetime, closures: Container[date]) -> date:
    """The working day a message counts as received on: the first one not yet ended."""
    local = to_local(received_at)
    day = local.date()
    if is_working_day(day, closures) and local.time() < workday_end():
        return day
    return next_working_day(day, closures)


def response_due_at(
    received_at: datetime, working_days: int, closures: Container[date]
) -> datetime:
    """The end of the n-th working day after the intake day, Swedish time, as UTC."""
    day = add_working_days(intake_day(received_at, closures), working_days, closures)
    return end_of_working_day(day)


def working_days_between(start: datetime, end: datetime, closures: Container[date]) -> int:
    """How many working days ended after `start` and no later than `end`."""
    if end < start:
        raise ValueError("end is before start")
    day, last = to_local(start).date(), to_local(end).date()
    count = 0
    while day <= last:
        if is_working_day(day, closures) and start < end_of_working_day(day) <= end:
            count += 1
        day += timedelta(days=1)
    return count


class WorkingDayCounter:
    """`working_days_between` for many spans at once (a report's thousands of inquiries).

    The end of every working day from the earliest start to the latest end is computed once;
    a span's count is then the number of those ends after its start and no later than its end,
    two binary searches. A working day outside the span's dates cannot count either way (its
    end lies before the start's day or after the end's), so the answer is the same.
    """

    def __init__(self, spans: list[tuple[datetime, datetime]], closures: Container[date]) -> None:
        self.ends: list[datetime] = []
        if not spans:
            return
        day = to_local(min(start for start, _end in spans)).date()
        last = to_local(max(end for _start, end in spans)).date()
        while day <= last:  # one pass over the days, not one per span
            if is_working_day(day, closures):
                self.ends.append(end_of_working_day(day))
            day += timedelta(days=1)

    def between(self, start: datetime, end: datetime) -> int:
        """How many working days ended after `start` and no later than `end` (one of the
        spans given, or within them)."""
        if end < start:
            raise ValueError("end is before start")
        return bisect_right(self.ends, end) - bisect_right(self.ends, start)


def days_given_back(
    due_at: datetime, paused_from: datetime, paused_until: datetime, closures: Container[date]
) -> int:
    """The working days a pause gives back: those that ended while the inquiry was on hold.

    Nothing for a response already due when the pause began: pausing does not undo a missed
    target.
    """
    if paused_until < paused_from:
        raise ValueError("paused_until is before paused_from")
    if due_at <= paused_from:
        return 0
    return working_days_between(paused_from, paused_until, closures)


def target_working_days(priority: Priority | str, config: Mapping | None = None) -> int:
    """The response target for a priority: RESPONSE_TARGET_DAYS_LOW / _NORMAL / _HIGH."""
    settings = current_app.config if config is None else config
    return int(settings[f"RESPONSE_TARGET_DAYS_{Priority(priority).value.upper()}"])


def closure_days(start: date | None = None, end: date | None = None) -> frozenset[date]:
    """The closure days from `start` to `end` (both included; open when None), in one query."""
    query = select(ClosureDay.day)
    if start is not None:
        query = query.where(ClosureDay.day >= start)
    if end is not None:
        query = query.where(ClosureDay.day <= end)
    return frozenset(db.session.scalars(query))


def response_due_for(
    received_at: datetime, priority: Priority | str, paused_days: int = 0
) -> datetime:
    """When the first response to an inquiry received at `received_at` is due: its priority's
    target plus the working days it has spent on hold (one query)."""
    closures = closure_days(start=local_date(received_at))
    return response_due_at(received_at, target_working_days(priority) + paused_days, closures)


# ---- closure days, for the admin -----------------------------------------------------------


def list_closure_days() -> tuple[list[ClosureDay], list[ClosureDay]]:
    """Upcoming closure days (today included) soonest first, and past ones latest first."""
    rows = db.session.scalars(
        select(ClosureDay).options(joinedload(ClosureDay.created_by)).order_by(ClosureDay.day)
    ).all()
    today = local_today()
    upcoming = [row for row in rows if row.day >= today]
    past = [row for row in reversed(rows) if row.day < today]
    return upcoming, past


def add_closure_day(day: date, reason: str, actor) -> ClosureDay:
    """Make a weekday from today on a closure day, or raise DomainError beside the date."""
    from crm.i18n import language

    if day < local_today():
        raise DomainError(_("Dagen har redan varit. Välj i dag eller ett senare datum."), "day")
    if day.weekday() >= SATURDAY:
        raise DomainError(
            _("Det är en lördag eller söndag, som aldrig räknas som arbetsdag."), "day"
        )
    holiday = holiday_name(day, language())
    if holiday:
        # Refused rather than stored: the row would change nothing, and the list of closure
        # days stays a list of the days the admin actually decided.
        raise DomainError(
            _(
                "Det är redan en helgdag (%(holiday)s) och räknas inte som arbetsdag.",
                holiday=holiday,
            ),
            "day",
        )
    closure = ClosureDay(day=day, reason=reason, created_by_id=getattr(actor, "id", None))
    try:
        # The unique key decides, so two admins adding the same day at once get one row.
        with db.session.begin_nested():
            db.session.add(closure)
    except IntegrityError:
        raise DomainError(_("Den dagen är redan en stängningsdag."), "day") from None
    audit("closure_day_added", actor, closure, day=day.isoformat(), reason=reason)
    return closure


def delete_closure_day(closure: ClosureDay, actor) -> None:
    """Remove an upcoming closure day; past ones stay, as they explain past due dates."""
    if closure.day < local_today():
        raise DomainError(_("En dag som har varit kan inte tas bort: den förklarar svarstider."))
    audit("closure_day_deleted", actor, closure, day=closure.day.isoformat(), reason=closure.reason)
    db.session.delete(closure)
    db.session.flush()
