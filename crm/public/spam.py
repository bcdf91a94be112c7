"""Spam defence without third parties: a honeypot field and a minimum fill time."""

from __future__ import annotations

import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="public-form-started")


def form_started_token(now: float | None = None) -> str:
    """A signed record of when the form was shown."""
    return _serializer().dumps(int((now if now is not None else time.time()) * 1000))


def looks_automated(
    honeypot: str | None, started_token: str | None, now: float | None = None
) -> bool:
    """True for a filled honeypot, a missing or forged start time, or a too-fast submission."""
    if honeypot:
        return True
    try:
        started_ms = _serializer().loads(started_token or "")
    except BadSignature:
        return True
    if not isinstance(started_ms, int):
        return True
    elapsed = (now if now is not None else time.time()) - started_ms / 1000
    return elapsed < current_app.config["FORM_MIN_FILL_SECONDS"]
