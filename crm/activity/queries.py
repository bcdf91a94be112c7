"""Read-only queries for notes, follow-ups and timelines, each in a fixed number of statements."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.extensions import db
from crm.timeutil import local_today

INBOX_LIMIT = 50


def get_follow_up_or_404(follow_up_id: int) -> FollowUp:
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None:
        abort(404)
    return follow_up


def get_note_or_404(note_id: int, *, inquiry_id=None, organisation_id=None) -> Note:
    """The note, only as part of the record it belongs to (an inquiry's or an organisation's)."""
    note = db.session.get(Note, note_id)
    if note is None:
        abort(404)
    if inquiry_id is not None and note.inquiry_id != inquiry_id:
        abort(404)
    if organisation_id is not None and note.organisation_id != organisation_id:
        abort(404)
    return note


def follow_ups_due(user, until: date | None = None, limit: int = INBOX_LIMIT) -> list[FollowUp]:
    """The user's open follow-ups, overdue first; only those due by `until` if given."""
    return list(db.session.scalars(follow_ups_due_query(user, until, limit)))


def follow_ups_this_week(user) -> list[FollowUp]:
    return follow_ups_due(user, until=local_today() + timedelta(days=7))


def follow_ups_due_query(user, until: date | None = None, limit: int = INBOX_LIMIT):
    query = (
        select(FollowUp)
        .options(joinedload(FollowUp.inquiry), joinedload(FollowUp.organisation))
        .where(FollowUp.owner_id == user.id, FollowUp.completed_at.is_(None))
        .order_by(FollowUp.due_on, FollowUp.id)
        .limit(limit)
    )
    if until is not None:
        query = query.where(FollowUp.due_on <= until)
    return query


def follow_ups_of(inquiry) -> list[FollowUp]:
    return list(
        db.session.scalars(
            select(FollowUp)
            .options(joinedload(FollowUp.owner))
            .where(FollowUp.inquiry_id == inquiry.id)
            .order_by(FollowUp.completed_at.is_not(None), FollowUp.due_on, FollowUp.id)
        )
    )


TIMELINE_SHOWN = 50


def timeline_of(inquiry, shown: int | None = TIMELINE_SHOWN) -> tuple[list[TimelineEvent], int]:
    """The latest `shown` events of the inquiry, newest first (all with None), and how many
    older ones there are; one statement."""
    query = (
        select(TimelineEvent, func.count().over())
        .options(joinedload(TimelineEvent.actor))
        .where(TimelineEvent.inquiry_id == inquiry.id)
        .order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
    )
    if shown is not None:
        query = query.limit(shown)
    rows = db.session.execute(query).all()
    total = rows[0][1] if rows else 0
    return [event for event, _ in rows], total - len(rows)
