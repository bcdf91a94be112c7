"""Structured logs: one line per event, a request id on each, JSON when LOG_JSON is set."""

from __future__ import annotations

import json
import logging
import re
import uuid

from flask import Flask, g, has_request_context, request

LOGGER_NAME = "crm"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Everything a log reader may take for the end of a line: C0 and C1 controls (VT, FF, FS-RS and
# NEL included, which str.splitlines() and some viewers treat as line breaks), DEL, and the
# Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What json.dumps leaves as it is of those (it escapes only U+0000 to U+001F).
_JSON_UNESCAPED_CONTROL = re.compile(r"[\x7f-\x9f\u2028\u2029]")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class OneLineFormatter(logging.Formatter):
    """Plain text with control characters escaped, so a value can never forge a log line.

    The whole formatted record is escaped, message, arguments and any traceback alike: a
    traceback stays on its event's line, its line breaks shown as \\n, so no line of it can be
    taken for an event of its own.
    """

    def format(self, record: logging.LogRecord) -> str:
        return escape(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _JSON_UNESCAPED_CONTROL.sub(_json_escaped, json.dumps(entry, ensure_ascii=False))


def escape(text: str) -> str:
    """`text` on one line: CR and LF as \\r and \\n, other controls as \\xNN or \\uNNNN."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match) -> str:
    char = match.group()
    if char == "\r":
        return "\\r"
    if char == "\n":
        return "\\n"
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _json_escaped(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def init_app(app: Flask) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, "samverka", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.samverka = True
    handler.addFilter(RequestIdFilter())
    if app.config["LOG_JSON"]:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            OneLineFormatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _echo_request_id(response):
    response.headers["X-Request-ID"] = g.get("request_id", "-")
    return response
