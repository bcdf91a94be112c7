"""A request's attachments are checked, stored and scanned before its view runs.

Before the view means before anything in the request touches the database: on SQLite a
request that may write takes the write lock at its first statement (`crm.database`), and a
scan may take seconds, which every other writer would wait out. Registered after the CSRF
check and the rate limiter (so a forged or flooding request stores nothing) and before the
log-in checks, which read the database.
"""

from __future__ import annotations

import logging

from flask import Flask, g, request
from flask_babel import gettext as _

from crm.attachments import storage
from crm.attachments.services import PreparedFile, prepare_uploads
from crm.core.uploads import files_field
from crm.errors import DomainError
from crm.extensions import db

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.before_request(_prepare_files)
    app.teardown_request(_discard_uncommitted)


def _prepare_files() -> None:
    field = files_field() if request.method == "POST" else None
    if field is None:
        return
    try:
        g.prepared_files = prepare_uploads(request.files.getlist(field), field)
    except DomainError as refused:
        g.refused_files = refused
    except OSError:  # the store is full or not writable: the person keeps their form
        log.exception("attachments could not be stored in ATTACHMENTS_DIR")
        g.refused_files = DomainError(
            _("Filerna kunde inte sparas just nu. Försök igen om en stund."), field=field
        )


def uploaded_files() -> list[PreparedFile]:
    """This request's attachments, ready for `attach_files`; raises the refusal of the first
    file that was refused, for the view to show beside the field."""
    refused = g.get("refused_files")
    if refused is not None:
        raise refused
    return g.get("prepared_files", [])


def _discard_uncommitted(_error) -> None:
    storage.discard_uncommitted(db.session)
