"""Double submission is harmless: every form that changes something carries a one-time id.

A form is rendered with a random `submission_id`. The first POST that carries it claims the id
(a row with a unique key, written in the same transaction as the change) and records where it
led; a repeat — a double click, a reload of the POST, a retry after a timeout — finds the row
and is sent to the same result instead of doing the work again. Two copies arriving at the same
moment are ordered by the unique key: on PostgreSQL the second INSERT waits for the first
transaction and then fails; on SQLite a writing request holds the write lock from its start.
A failed attempt (validation error, conflict, outage) rolls back, so its id stays unused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import current_app, flash, g, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import JSON, ForeignKey, String, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField

from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow

FIELD = "submission_id"
# A used id is remembered this long; a form older than that is no longer a repeat anyone makes.
KEPT_FOR = timedelta(days=30)
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_submission_id() -> str:
    """128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


class FormSubmission(db.Model):
    """A one-time submission id that has been used, and the page its submission led to."""

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash: the id itself travels in a page and is as good as the result it names.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    result_url: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class OnceForm(FlaskForm):
    """A form whose every rendering carries a fresh one-time id (kept when re-shown with errors)."""

    submission_id = HiddenField(default=new_submission_id)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _find(key_hash: str) -> FormSubmission | None:
    return db.session.scalar(select(FormSubmission).where(FormSubmission.key_hash == key_hash))


def claim(key: str | None, endpoint: str, user_id: int | None) -> FormSubmission | None:
    """Take the id for this submission; the earlier submission's row if it was used already.

    Returns None when the request carries no usable id (an old page): it is then processed
    without protection rather than refused, so nobody loses what they typed.
    """
    if not key or not _KEY.match(key):
        return None
    key_hash = _hash(key)
    # One statement: the row is written unless the id was used. On PostgreSQL a twin still
    # in flight makes it wait on the unique key; then it writes nothing and finds the twin.
    claimed = db.session.execute(
        _insert_unless_used(key_hash=key_hash, endpoint=endpoint, user_id=user_id)
    ).scalar()
    if claimed is None:
        return _find(key_hash)
    g.submission = _Claimed(claimed)
    return None


@dataclass
class _Claimed:
    id: int
    result_url: str | None = None


def _insert_unless_used(**values):
    dialect = db.session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return (
        insert(FormSubmission)
        .values(**values, result={}, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[FormSubmission.key_hash])
        .returning(FormSubmission.id)
    )


def remember_result(url: str, **result: Any) -> None:
    """Record where this submission led (call before the commit); a repeat is sent there."""
    claimed = g.get("submission")
    if claimed is not None:
        db.session.execute(
            update(FormSubmission)
            .where(FormSubmission.id == claimed.id)
            .values(result_url=url, result=result)
        )
        claimed.result_url = url


def is_repeat_of_another(earlier: FormSubmission, endpoint: str, user_id: int | None) -> bool:
    """An id used by another person or form is not this person's repeat: refuse it."""
    return earlier.endpoint != endpoint or earlier.user_id != user_id


def once(on_repeat: Callable[[FormSubmission], Any] | None = None):
    """Make a POST view idempotent by the form's one-time id (see the module docstring)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method != "POST":
                return view(*args, **kwargs)
            endpoint, user_id = request.endpoint, _user_id()
            earlier = claim(request.form.get(FIELD), endpoint, user_id)
            if earlier is None:
                response = view(*args, **kwargs)
                _check_result_recorded(response)
                return response
            db.session.rollback()
            if is_repeat_of_another(earlier, endpoint, user_id) or not earlier.result_url:
                # Taken by someone else, or the first copy is still being processed.
                from flask import abort

                abort(409)
            if on_repeat is not None:
                return on_repeat(earlier)
            flash(
                _("Det här var redan sparat. Inget har sparats eller skickats två gånger."), "info"
            )
            return redirect(earlier.result_url)

        wrapped.idempotent = True  # the tests check that every POST route has it
        return wrapped

    return decorator


def _check_result_recorded(response) -> None:
    """In tests, a successful submission that forgot `remember_result` fails loudly."""
    row = g.get("submission")
    status = getattr(response, "status_code", None)
    if current_app.testing and row is not None and status in {302, 303} and not row.result_url:
        raise AssertionError(f"{request.endpoint} succeeded without remember_result()")


def forget_old_submissions(now: datetime | None = None) -> int:
    """Drop used ids older than KEPT_FOR (run by `flask crm purge-expired`); returns how many."""
    cutoff = (now or utcnow()) - KEPT_FOR
    result = db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < cutoff))
    return result.rowcount
