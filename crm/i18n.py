"""Language selection: Swedish first, English on request, remembered in the session."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, session
from flask_babel import format_datetime, get_locale
from markupsafe import Markup

from crm.choices import Category, OrganisationType, Relationship
from crm.timeutil import utcnow


def select_locale() -> str:
    chosen = session.get("lang") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def other_language() -> str:
    """The language the header's switch offers."""
    return "en" if select_locale() == "sv" else "sv"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["datetime"] = lambda value: (
        format_datetime(value, "short") if value else ""
    )
    app.jinja_env.globals["current_locale"] = select_locale
    app.jinja_env.globals["other_language"] = other_language
    app.jinja_env.globals["status_label"] = _status_label
    app.jinja_env.globals["status_badge"] = status_badge
    app.jinja_env.globals["today"] = lambda: utcnow().date()
    app.jinja_env.globals["hours"] = format_hours
    app.jinja_env.globals["category_choices"] = lambda: Category.choices()
    app.jinja_env.globals["organisation_type_choices"] = lambda: OrganisationType.choices()
    app.jinja_env.globals["relationship_choices"] = lambda: Relationship.choices()


def _status_label(value: str | None) -> str:
    from crm.inquiries.statuses import Status

    try:
        return Status(value).label
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


def language() -> str:
    """The request's language code ("sv" or "en")."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def status_badge(status) -> Markup:
    """The coloured status label; lists show one per row, so each is built once per language."""
    return _badge(status, language())


@lru_cache(maxsize=64)
def _badge(status, _language: str) -> Markup:
    return Markup('<span class="badge status-{}">{}</span>').format(status.value, status.label)


def _date(value) -> str:
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

    return babel_format_date(day, "medium", locale=locale)
