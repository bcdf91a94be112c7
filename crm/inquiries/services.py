"""The rules for inquiries. Services change state and flush; the caller commits."""

from __future__ import annotations

from crm.activity.services import record_event
from crm.errors import InvalidTransition
from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.inquiries.statuses import FINAL_STATUSES, TRANSITIONS, WITHDRAWABLE_STATUSES, Status
from crm.timeutil import utcnow

REOPEN_FROM = frozenset({Status.CLOSED, Status.DECLINED})


def change_status(inquiry: Inquiry, new: Status, actor, **event_data) -> None:
    """Move an inquiry along the workflow, or raise InvalidTransition."""
    old = inquiry.status
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(old, new)
    now = utcnow()
    if old is Status.NEW and actor is not None and inquiry.first_response_at is None:
        inquiry.first_response_at = now
    if new in FINAL_STATUSES:
        inquiry.closed_at = inquiry.closed_at or now
    else:
        inquiry.closed_at = None
    kind = "reopened" if old in REOPEN_FROM and new is Status.TRIAGED else "status_changed"
    inquiry.status = new
    record_event(kind, actor, inquiry=inquiry, old=old, new=new, **event_data)
    db.session.flush()


def withdraw_by_submitter(inquiry: Inquiry) -> None:
    """The submitter withdraws through their status link (only while the inquiry is open)."""
    if inquiry.status not in WITHDRAWABLE_STATUSES:
        raise InvalidTransition(inquiry.status, Status.WITHDRAWN)
    change_status(inquiry, Status.WITHDRAWN, None, by="submitter")
