"""URL helpers shared by every feature."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, g, url_for
from werkzeug.routing import IntegerConverter

PATH_SEGMENT_SAFE = "!$&'()*+,/:;=@"  # what Werkzeug's converters leave unquoted


def external_url(endpoint: str, **values) -> str:
    """An absolute link for e-mails, built on SAMVERKA_BASE_URL (not the request's host).

    Works without a request too (cron commands), so it builds from the URL map directly.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def safe_next(target: str | None) -> str | None:
    """Only a local path may be followed; anything with a scheme or host is dropped."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None  # a backslash or a line break would turn into another URL or header
    return target


def inquiry_url(reference: str) -> str:
    """`url_for("inquiries.detail", reference=…)` for list rows, which need dozens per page.

    Building the prefix once per request and appending the quoted reference is several
    times cheaper than a full URL build for each row.
    """
    prefix = g.get("inquiry_url_prefix")
    if prefix is None:
        prefix = g.inquiry_url_prefix = url_for("inquiries.detail", reference="x")[:-1]
    return prefix + quote(reference, safe=PATH_SEGMENT_SAFE)


class DatabaseId(IntegerConverter):
    """`<int:…>` in every route: an id larger than a database integer can hold is no page
    (404), not a database error (SQLite overflows, PostgreSQL refuses)."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = 2**63 - 1, signed: bool = False) -> None:  # fmt: skip
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
