"""Time helpers: everything is stored in UTC and shown in Swedish time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


DEFAULT_ZONE = "Europe/Stockholm"


def local_zone() -> ZoneInfo:
    """The app's time zone (BABEL_DEFAULT_TIMEZONE), Europe/Stockholm outside an app."""
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else DEFAULT_ZONE
    return _zone(name)


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_now() -> datetime:
    """Now, in Swedish time."""
    return utcnow().astimezone(local_zone())


def month_start(year: int, month: int) -> datetime:
    """Midnight on the first of the month in Swedish time, as a UTC moment: where a month,
    quarter or year of the reports and the list's filters begins (month 13 is January of the
    next year). An inquiry at 00:30 on 1 April in Stockholm belongs to April."""
    extra_years, month_index = divmod(month - 1, 12)
    local = datetime(year + extra_years, month_index + 1, 1, tzinfo=local_zone())
    return local.astimezone(UTC)


def local_today() -> date:
    """Today in Sweden: after 22:00 UTC in summer (23:00 in winter) a day later than in UTC."""
    return local_now().date()


def to_local(moment: datetime) -> datetime:
    """The same moment in Swedish time."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware values")
    return moment.astimezone(local_zone())


def local_date(moment: datetime) -> date:
    """The Swedish date of a moment, e.g. of a stored UTC timestamp."""
    return to_local(moment).date()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC values")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
