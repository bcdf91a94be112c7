"""Larger request bodies only where a view takes files.

MAX_CONTENT_LENGTH stays small (64 KiB) for every form; a view that takes a file names its own
limit with `@accepts_upload(...)`. The limit is set before the CSRF check reads the body, so
it must be registered before Flask-WTF's hook (`init_app` is called first in the factory).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request

ATTRIBUTE = "_samverka_upload_limit"
# Room for the form's other fields and the multipart framing around the file.
FRAMING = 64 * 1024


def accepts_upload(limit: Callable[[], int]):
    """Let this view's requests carry `limit()` bytes of file (plus the form around it)."""

    def mark(view):
        setattr(view, ATTRIBUTE, limit)
        return view

    return mark


def init_app(app: Flask) -> None:
    @app.before_request
    def raise_limit_for_uploads() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        limit = getattr(view, ATTRIBUTE, None)
        if limit is not None:
            request.max_content_length = limit() + FRAMING
