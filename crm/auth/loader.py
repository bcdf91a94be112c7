"""Flask-Login wiring: a session is valid only while its user's session version matches."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from crm.auth.models import User
from crm.extensions import db, login_manager


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _unauthorized():
    from crm.auth.views import login_again

    return login_again(str(login_manager.login_message))


def init_login(app: Flask) -> None:
    from crm.auth.views import enforce_session_timeouts, enforce_two_factor

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Logga in för att se sidan.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(enforce_session_timeouts)
    app.before_request(enforce_two_factor)
