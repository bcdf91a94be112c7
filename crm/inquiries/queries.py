"""Read-only queries for inquiry pages, each in a fixed number of SQL statements."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from crm.activity.models import TimelineEvent
from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.inquiries.statuses import OPEN_STATUSES, Status
from crm.timeutil import utcnow

INBOX_LIMIT = 50


def _listing():
    return select(Inquiry).options(joinedload(Inquiry.organisation), joinedload(Inquiry.assignee))


def inbox_for(user) -> dict[str, list[Inquiry]]:
    """The inquiries a staff member should look at now, grouped for the inbox."""
    now = utcnow()
    newest_first = (Inquiry.created_at.desc(), Inquiry.id.desc())
    mine_new = db.session.scalars(
        _listing()
        .where(Inquiry.assignee_id == user.id, Inquiry.status == Status.NEW)
        .order_by(*newest_first)
        .limit(INBOX_LIMIT)
    ).all()
    mine_overdue = db.session.scalars(
        _listing()
        .where(
            Inquiry.assignee_id == user.id,
            Inquiry.status == Status.NEW,
            Inquiry.first_response_due_at < now,
        )
        .order_by(Inquiry.first_response_due_at, Inquiry.id)
        .limit(INBOX_LIMIT)
    ).all()
    unassigned = db.session.scalars(
        _listing()
        .where(Inquiry.assignee_id.is_(None), Inquiry.status.in_(OPEN_STATUSES))
        .order_by(*newest_first)
        .limit(INBOX_LIMIT)
    ).all()
    return {"new": mine_new, "overdue": mine_overdue, "unassigned": unassigned}


def count_my_new(user) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Inquiry)
        .where(Inquiry.assignee_id == user.id, Inquiry.status == Status.NEW)
    )


def public_replies(inquiry) -> list[TimelineEvent]:
    """Replies staff chose to show the submitter on the status page, oldest first."""
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind == "public_reply")
            .order_by(TimelineEvent.created_at, TimelineEvent.id)
        )
    )


def get_inquiry_or_404(reference: str) -> Inquiry:
    from flask import abort

    inquiry = db.session.scalar(
        _listing().options(selectinload(Inquiry.region_links)).where(Inquiry.reference == reference)
    )
    if inquiry is None:
        abort(404)
    return inquiry


def timeline_of(inquiry) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .options(joinedload(TimelineEvent.actor))
            .where(TimelineEvent.inquiry_id == inquiry.id)
            .order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
        )
    )
