"""The response clock: when the partner's first response is due, and when they got it.

The deadline is the priority's target in Swedish working days from arrival, plus the working
days the inquiry has spent on hold; the first response is the earliest response to the
partner (a public reply, a contact logged as made, or a move to declined or spam). Which
inquiries are late is `Inquiry.response_overdue`, beside the columns it reads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.inquiries.statuses import Status
from crm.timeutil import local_date
from crm.workdays.services import closure_days, days_given_back, response_due_for


def response_deadline(inquiry: Inquiry):
    """When the first response is due: the priority's target in Swedish working days from
    arrival, plus the working days the inquiry has spent on hold."""
    # No autoflush: the inquiry is mid-change, and a flush here would bump its version twice.
    with db.session.no_autoflush:
        paused = inquiry.response_paused_days or 0  # None on a new inquiry not yet stored
        return response_due_for(inquiry.created_at, inquiry.priority, paused)


def run_response_clock(inquiry: Inquiry, old: Status, new: Status, now) -> None:
    """On hold stops the clock; leaving it gives back the working days that ended meanwhile."""
    if new is Status.ON_HOLD and inquiry.first_response_at is None:
        inquiry.response_paused_at = now
    elif old is Status.ON_HOLD and inquiry.response_paused_at is not None:
        with db.session.no_autoflush:
            closures = closure_days(start=local_date(inquiry.response_paused_at))
        due = inquiry.first_response_due_at or response_deadline(inquiry)
        inquiry.response_paused_days += days_given_back(
            due, inquiry.response_paused_at, now, closures
        )
        inquiry.response_paused_at = None
        inquiry.first_response_due_at = response_deadline(inquiry)


def stamp_first_response(inquiry: Inquiry, at: datetime) -> None:
    """Record that the partner got a response at `at`; the earliest response counts.

    The one place `first_response_at` is written. A guarded UPDATE that leaves the version
    alone: it is not an edit anyone could overwrite, so two people answering at once must not
    turn it into a conflict, and it only ever moves the moment earlier.
    """
    if inquiry.first_response_at is not None and inquiry.first_response_at <= at:
        return
    result = db.session.execute(
        update(Inquiry)
        .where(
            Inquiry.id == inquiry.id,
            or_(Inquiry.first_response_at.is_(None), Inquiry.first_response_at > at),
        )
        .values(first_response_at=at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        set_committed_value(inquiry, "first_response_at", at)
    else:  # someone else recorded an earlier response meanwhile: read theirs when needed
        db.session.expire(inquiry, ["first_response_at"])
