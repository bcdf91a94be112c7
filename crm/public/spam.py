"""Spam defence without third parties: a honeypot field and a minimum fill time.

Only the honeypot answers silently (a person never sees that field). The fill timer can catch a
real person — a quick correction after an error, an old tab, a form shown before a restart — so
it never drops anything: the form comes back with what was typed and a plain request to send
again.
"""

from __future__ import annotations

import time
from enum import Enum

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer


class Verdict(Enum):
    PERSON = "person"
    HONEYPOT = "honeypot"
    TOO_FAST = "too_fast"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="public-form-started")


def form_started_token(now: float | None = None) -> str:
    """A signed record of when the form was first shown."""
    return _serializer().dumps(int((now if now is not None else time.time()) * 1000))


def started_at(token: str | None) -> float | None:
    """When the form was first shown, from its signed token; None if missing or forged."""
    try:
        started_ms = _serializer().loads(token or "")
    except BadSignature:
        return None
    return started_ms / 1000 if isinstance(started_ms, int) else None


def judge(honeypot: str | None, started_token: str | None, now: float | None = None) -> Verdict:
    """A filled honeypot is a bot; a missing, forged or too recent start time is 'too fast'."""
    if honeypot:
        return Verdict.HONEYPOT
    started = started_at(started_token)
    elapsed = (now if now is not None else time.time()) - (started or 0)
    if started is None or elapsed < current_app.config["FORM_MIN_FILL_SECONDS"]:
        return Verdict.TOO_FAST
    return Verdict.PERSON


def keep_or_restart(started_token: str | None) -> str:
    """The timer token to render: the one from the first display if it is genuine, else now."""
    return started_token if started_at(started_token) is not None else form_started_token()
