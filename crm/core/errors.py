"""Friendly error pages in the user's language; never a traceback."""

from __future__ import annotations

import contextlib
import logging
import secrets

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from crm import database
from crm.core.drafts import posted_draft
from crm.core.uploads import files_field
from crm.extensions import db, login_manager

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


# When a request fails after its COMMIT was sent, the change may have been made.
OUTCOME_UNKNOWN_TITLE = _l("Vi vet inte om det sparades")
OUTCOME_UNKNOWN = {
    "public.inquiry_form": _l(
        "Förbindelsen med databasen bröts medan din förfrågan sparades, så vi vet inte om den "
        "kom fram. Om den sparades får du strax ett kvitto med e-post, med referensnummer och "
        "en länk till statussidan där du kan följa den. Vänta på kvittot innan du skickar igen."
    ),
    "public": _l(
        "Förbindelsen med databasen bröts medan ändringen sparades, så vi vet inte om den gick "
        "igenom. Ladda om statussidan och se efter innan du försöker igen."
    ),
    "staff": _l(
        "Förbindelsen med databasen bröts medan ändringen sparades, så vi vet inte om den gick "
        "igenom. Ladda om sidan (till exempel förfrågan) och se efter om ändringen finns innan "
        "du skickar igen."
    ),
}
SAVED_THEN_FAILED = _l(
    "Det du skickade har sparats, men sedan inträffade ett oväntat fel. Ladda om sidan innan "
    "du skickar något igen."
)
UNAVAILABLE_TITLE = _l("Tjänsten är tillfälligt otillgänglig")
UNAVAILABLE = _l("Vi når inte databasen just nu. Försök igen om en stund.")
NOT_SAVED_TITLE = _l("Det gick inte att spara")
NOT_SAVED = _l(
    "Vi når inte databasen just nu, så det du skickade har inte sparats. Här är det du skrev: "
    "skicka det igen om en stund."
)


def _outcome_unknown_message():
    if request.endpoint in OUTCOME_UNKNOWN:
        return OUTCOME_UNKNOWN[request.endpoint]
    return OUTCOME_UNKNOWN["public" if request.blueprint == "public" else "staff"]


TOO_MUCH_WITH_FILES = _l(
    "Det du skickade var för stort: de bifogade filerna får vara högst %(mb)s MB tillsammans. "
    "Gå tillbaka, välj färre eller mindre filer och skicka igen."
)


def render_error(code: int, error_id: str | None = None):
    title, message = ERRORS.get(code, ERRORS[500])
    if code == 413 and files_field() is not None:
        mb = current_app.config["ATTACHMENT_MAX_TOTAL_BYTES"] // 2**20
        message = TOO_MUCH_WITH_FILES % {"mb": mb}
    if code == 500:
        state = database.commit_state()
        if state == database.COMMIT_SENT:
            title, message = OUTCOME_UNKNOWN_TITLE, _outcome_unknown_message()
        elif state == database.COMMIT_CONFIRMED:
            message = SAVED_THEN_FAILED
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
    try:
        response = _http_error_page(exc)
    except (DBAPIError, PoolTimeout) as failure:  # the page's user or menu needed the database
        return handle_database_error(failure)
    if exc.code == 405 and exc.valid_methods:
        return (*response, {"Allow": ", ".join(exc.valid_methods)})
    return response


def _http_error_page(exc: HTTPException):
    if exc.code == 403:
        from flask_login import current_user

        user = current_user.get_id() if current_user.is_authenticated else None
        log.warning("access_denied user=%s path=%s ip=%s", user, request.path, request.remote_addr)
    return render_error(exc.code)


def handle_not_permitted(exc):
    """A rule refused this person the action (jäv, someone else's note or follow-up): 403 with
    the rule's own explanation, and nothing of the request kept."""
    from flask_login import current_user

    db.session.rollback()
    user = current_user.get_id() if current_user.is_authenticated else None
    log.warning("action_refused user=%s path=%s", user, request.path)
    page = render_template(
        "errors/error.html", code=403, title=ERRORS[403][0], message=exc.message, error_id=None
    )
    return page, 403


def handle_unexpected(exc: Exception):
    db.session.rollback()
    error_id = secrets.token_hex(4)
    log.exception("unhandled error %s on %s %s", error_id, request.method, request.path)
    return render_error(500, error_id)


def handle_database_error(exc: Exception):
    """The database is down, unreachable, too slow or out of connections: 503, one log line,
    and whatever the person was sending shown back to them so that nothing is lost."""
    failure = database.unavailable(exc)
    if failure is None:  # the database answered: an ordinary error
        if current_app.testing:
            raise exc
        return handle_unexpected(exc)
    # Render as for a visitor: the user, the menu and its counts all need the database.
    g._login_user = login_manager.anonymous_user()
    with contextlib.suppress(SQLAlchemyError):  # nothing to undo on a connection that is gone
        db.session.rollback()
    error_id = secrets.token_hex(4)
    # One line, no traceback: an outage must not bury the log.
    log.warning(
        "database unavailable %s on %s %s: %s%s",
        error_id,
        request.method,
        request.path,
        failure.reason,
        "; COMMIT outcome unknown" if failure.outcome_unknown else "",
    )
    draft = posted_draft()
    if failure.outcome_unknown:
        title, message = OUTCOME_UNKNOWN_TITLE, _outcome_unknown_message()
    elif draft is not None:
        title, message = NOT_SAVED_TITLE, NOT_SAVED
    else:
        title, message = UNAVAILABLE_TITLE, UNAVAILABLE
    page = render_template(
        "errors/unavailable.html", title=title, message=message, draft=draft, error_id=error_id
    )
    return page, 503, {"Retry-After": "30"}


def init_app(app: Flask) -> None:
    from crm.errors import NotPermitted

    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(NotPermitted, handle_not_permitted)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_database_error)
    if not app.testing:  # tests want the real traceback; they check this page by turning it on
        app.register_error_handler(Exception, handle_unexpected)
