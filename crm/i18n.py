"""Language selection: Swedish first, English on request, remembered in the session."""

from __future__ import annotations

from flask import current_app, has_request_context, session
from flask_babel import get_locale


def select_locale() -> str:
    chosen = session.get("lang") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def other_language() -> str:
    """The language the header's switch offers."""
    return "en" if select_locale() == "sv" else "sv"


def language() -> str:
    """The request's language code ("sv" or "en")."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
