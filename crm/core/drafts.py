"""What a person was sending when it could not be saved, so that they can send it again.

A draft is every field of a POST except the CSRF token (a fresh one goes with the re-post) and
passwords (never written back into a page). It is only ever taken from a request that passed
the CSRF check: a forged request gets nothing of its own text echoed back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g, request

CARRIED_PREFIX = "draft:"  # the draft's fields on the log-in page, apart from the log-in's own
_NEVER_ECHOED = re.compile(r"^csrf_token$|password|totp|recovery", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    action: str  # the local path the form was posted to
    fields: tuple[tuple[str, str], ...]  # in posted order; a name repeats for multiple values

    def texts(self) -> list[str]:
        """The values a person wrote in words, shown read-only so they can be copied."""
        return [value for _name, value in self.fields if re.search(r"\S\s+\S", value)]


def posted_draft() -> Draft | None:
    """The current POST as a draft, or None if it is not one we may show back."""
    if request.method != "POST" or not g.get("csrf_valid", False):
        return None
    return _draft(
        request.full_path.rstrip("?"), ((name, values) for name, values in request.form.lists())
    )


def carried_draft() -> Draft | None:
    """A draft that came back through the log-in page, bound for the page in `next`."""
    if request.method != "POST" or not g.get("csrf_valid", False):
        return None
    carried = (
        (name.removeprefix(CARRIED_PREFIX), values)
        for name, values in request.form.lists()
        if name.startswith(CARRIED_PREFIX)
    )
    return _draft(request.args.get("next"), carried)


def _draft(target: str | None, named_values) -> Draft | None:
    from crm.core.urls import safe_next

    action = safe_next(target)
    if action is None:
        return None
    fields = tuple(
        (name, value)
        for name, values in named_values
        if not _NEVER_ECHOED.search(name)
        for value in values
    )
    return Draft(action, fields) if fields else None
