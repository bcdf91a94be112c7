"""Friendly error pages in the user's language; never a traceback."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from crm.extensions import db

log = logging.getLogger(__name__)

ERRORS = {
    400: (
        _l("Felaktig begäran"),
        _l("Begäran kunde inte behandlas. Ladda om sidan och försök igen."),
    ),
    403: (_l("Åtkomst nekad"), _l("Du har inte behörighet att se den här sidan.")),
    404: (_l("Sidan finns inte"), _l("Vi hittar inte sidan du söker. Kontrollera adressen.")),
    405: (_l("Metoden är inte tillåten"), _l("Sidan kan inte användas på det sättet.")),
    409: (
        _l("Redan skickat"),
        _l("Formuläret har redan skickats. Gå tillbaka, ladda om sidan och se efter."),
    ),
    413: (
        _l("För mycket data"),
        _l("Det du skickade var för stort. Korta texten och försök igen."),
    ),
    429: (
        _l("För många försök"),
        _l("Du har gjort för många försök på kort tid. Vänta en stund och försök igen."),
    ),
    500: (
        _l("Något gick fel"),
        _l("Ett oväntat fel inträffade. Inget av det du skickade har sparats. Försök igen."),
    ),
}


def render_error(code: int, error_id: str | None = None):
    title, message = ERRORS.get(code, ERRORS[500])
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=message, error_id=error_id
        ),
        code,
    )


def handle_http_exception(exc: HTTPException):
    if exc.response is not None:  # the raiser built the answer itself (e.g. a rate limit's form)
        return exc.response
    if exc.code not in ERRORS:
        return exc
    if exc.code == 403:
        from flask_login import current_user

        user = current_user.get_id() if current_user.is_authenticated else None
        log.warning("access_denied user=%s path=%s ip=%s", user, request.path, request.remote_addr)
    response = render_error(exc.code)
    if exc.code == 405 and exc.valid_methods:
        return (*response, {"Allow": ", ".join(exc.valid_methods)})
    return response


def handle_unexpected(exc: Exception):
    db.session.rollback()
    error_id = secrets.token_hex(4)
    log.exception("unhandled error %s on %s %s", error_id, request.method, request.path)
    return render_error(500, error_id)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:  # tests want the real traceback; they check this page by turning it on
        app.register_error_handler(Exception, handle_unexpected)
