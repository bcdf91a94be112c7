"""Every template filter and global, registered in one place, and the display helpers behind
them that are not a feature's own."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from markupsafe import Markup

from crm.i18n import language, other_language, select_locale


def init_app(app: Flask) -> None:
    from crm.attachments.services import attachment_hint
    from crm.choices import Category, OrganisationType, Relationship
    from crm.core.idempotency import new_submission_id
    from crm.core.navigation import nav_items, search_allowed
    from crm.core.urls import inquiry_url
    from crm.inquiries.statuses import explain
    from crm.timeutil import local_today, utcnow

    app.jinja_env.filters.update(date=format_date, datetime=format_moment, filesize=format_filesize)
    app.jinja_env.globals.update(
        current_locale=select_locale,
        other_language=other_language,
        status_label=status_label,
        status_badge=status_badge,
        status_explanation=explain,
        today=local_today,
        utcnow=utcnow,
        channel_label=channel_label,
        message_channel_label=message_channel_label,
        hours=format_hours,
        category_choices=Category.choices,
        organisation_type_choices=OrganisationType.choices,
        relationship_choices=Relationship.choices,
        inquiry_url=inquiry_url,
        nav_items=nav_items,
        search_allowed=search_allowed,
        new_submission_id=new_submission_id,
        attachment_hint=attachment_hint,
    )


def compile_templates(app: Flask) -> int:
    """Compile every template now, in gunicorn's master before it forks (gunicorn.conf.py).

    Otherwise each worker compiles each template on its first use (about 1 s and 7 MB for
    all of them), again after every recycling (`max_requests`): the first visitors of a
    fresh worker wait, and every worker keeps its own copy instead of sharing the master's.
    """
    names = [name for name in app.jinja_env.list_templates() if name.endswith((".html", ".txt"))]
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)


def status_label(value: str | None) -> str:
    from crm.inquiries.statuses import Status

    try:
        return Status(value).label
    except ValueError:
        return value or ""


def message_channel_label(value: str | None) -> str:
    from crm.conversation.models import MessageChannel

    try:
        return MessageChannel(value).label
    except ValueError:
        return value or ""


def channel_label(value: str | None) -> str:
    from crm.choices import Channel

    try:
        return Channel(value).label
    except ValueError:
        return value or ""


def format_hours(value: float | None) -> str:
    """A duration in hours as people say it: "5 tim" under two days, else "3,5 dagar"."""
    from flask_babel import format_decimal, gettext

    if value is None:
        return "–"
    if value < 48:
        return gettext("%(n)s tim", n=format_decimal(round(value, 1)))
    return gettext("%(n)s dagar", n=format_decimal(round(value / 24, 1)))


def format_filesize(size: int) -> str:
    """A file's size as people read it: "820 byte", "340 kB", "2,3 MB" (decimal units)."""
    from flask_babel import format_decimal

    if size < 1000:
        return f"{size} byte"
    if size < 1_000_000:
        return f"{format_decimal(round(size / 1000))} kB"
    return f"{format_decimal(round(size / 1_000_000, 1))} MB"


def status_badge(status) -> Markup:
    """The coloured status label; lists show one per row, so each is built once per language."""
    return _badge(status, language())


@lru_cache(maxsize=64)
def _badge(status, _language: str) -> Markup:
    return Markup('<span class="badge status-{}">{}</span>').format(status.value, status.label)


def format_moment(value) -> str:
    """A moment in Swedish time and the user's language, as Babel's "short" date and time.

    A thread shows hundreds: the pattern is parsed once per language, not on every call.
    """
    if not value:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    locale, pattern = _moment_pattern(language())
    return pattern.apply(local, locale)


# English for a Swedish organisation: day before month, 24-hour clock ("26 Nov 2026, 14:05"),
# not the American "11/26/26, 2:05 PM" that Babel's "en" gives.
MOMENT_PATTERNS = {"en": "d MMM y, HH:mm"}
DATE_PATTERNS = {"en": "d MMM y"}


@lru_cache(maxsize=8)
def _moment_pattern(locale_name: str):
    from babel import Locale
    from babel.dates import get_date_format, get_datetime_format, get_time_format, parse_pattern

    locale = Locale.parse(locale_name)
    if locale_name in MOMENT_PATTERNS:
        return locale, parse_pattern(MOMENT_PATTERNS[locale_name])
    combined = str(get_datetime_format("short", locale))
    pattern = combined.replace("{1}", get_date_format("short", locale).pattern).replace(
        "{0}", get_time_format("short", locale).pattern
    )
    return locale, parse_pattern(pattern)


def format_date(value) -> str:
    """A date (or the date of a moment) in Swedish time and the user's language.

    Lists call this on every row, so it avoids Flask-Babel's per-call look-ups.
    """
    if not value:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    return _formatted_date(value, language())


@lru_cache(maxsize=4096)
def _formatted_date(day, locale: str) -> str:
    from babel.dates import format_date as babel_format_date

    return babel_format_date(day, DATE_PATTERNS.get(locale, "medium"), locale=locale)
