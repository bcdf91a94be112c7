"""Larger request bodies only where a view takes files.

MAX_CONTENT_LENGTH stays small (64 KiB) for every form; a view that takes a file names its own
limit with `@accepts_upload(...)`. The limit is set before the CSRF check reads the body, so
it must be registered before Flask-WTF's hook (`init_app` is called first in the factory).
A view that takes attachments also names their form field (`files=`): they are checked,
stored and scanned before the view runs (`crm.attachments.hooks`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request

ATTRIBUTE = "_samverka_upload_limit"
FILES_ATTRIBUTE = "_samverka_files_field"
# Room for the form's other fields and the multipart framing around the file.
FRAMING = 64 * 1024


def accepts_upload(limit: Callable[[], int], files: str | None = None):
    """Let this view's requests carry `limit()` bytes of file (plus the form around it);
    `files`: the form field whose files are attachments."""

    def mark(view):
        setattr(view, ATTRIBUTE, limit)
        setattr(view, FILES_ATTRIBUTE, files)
        return view

    return mark


def files_field() -> str | None:
    """The attachments field of the view this request goes to, if it takes any."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, FILES_ATTRIBUTE, None)


def init_app(app: Flask) -> None:
    @app.before_request
    def raise_limit_for_uploads() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        limit = getattr(view, ATTRIBUTE, None)
        if limit is not None:
            request.max_content_length = limit() + FRAMING
