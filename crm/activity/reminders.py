"""The daily reminder digest: one e-mail per person and day, never two."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, text

from crm.activity.models import FollowUp
from crm.auth.models import User
from crm.auth.permissions import Permission
from crm.core.urls import external_url
from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.mail.models import OutboxMessage
from crm.mail.services import queue_mail
from crm.timeutil import local_today, utcnow

# PostgreSQL advisory lock key: "SAMR"(eminders) as a number, beside send-mail's "SAMM".
ADVISORY_LOCK_KEY = 0x53414D52


def reminder_key(user: User, day: date) -> str:
    return f"reminder:{user.id}:{day.isoformat()}"


def send_reminders(today: date | None = None, now: datetime | None = None) -> tuple[int, int]:
    """Queue today's digest for everyone with something due; returns (queued, already sent)."""
    today = today or local_today()
    now = now or utcnow()
    _take_turns()
    queued = skipped = 0
    for user in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
        if not user.can(Permission.INQUIRY_EDIT):
            continue
        key = reminder_key(user, today)
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            skipped += 1
            continue
        follow_ups, late_inquiries = _due_for(user, today, now)
        if not follow_ups and not late_inquiries:
            continue
        queue_mail(
            "reminder", user.email, "reminder", dedupe_key=key, user=user, today=today,
            follow_ups=follow_ups, inquiries=late_inquiries,
            inbox_link=external_url("inquiries.inbox"),
        )  # fmt: skip
        queued += 1
    db.session.flush()
    return queued, skipped


def _take_turns() -> None:
    """Runs started together (the same crontab on every app host) take turns: a second run
    waits here until the first has committed, then finds today's digests queued. Without it
    both would queue a digest and the second would fail on the unique dedupe key. Held until
    the caller's transaction ends; SQLite serves one host, whose cron starts one run."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def _due_for(user: User, today: date, now: datetime):
    follow_ups = db.session.scalars(
        select(FollowUp)
        .where(
            FollowUp.owner_id == user.id,
            FollowUp.completed_at.is_(None),
            FollowUp.due_on <= today,
        )
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    inquiries = db.session.scalars(
        select(Inquiry)
        .where(Inquiry.assignee_id == user.id, Inquiry.response_overdue(now))
        .order_by(Inquiry.first_response_due_at, Inquiry.id)
    ).all()
    return follow_ups, inquiries
