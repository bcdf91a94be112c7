"""Removing personal data while keeping the statistics."""

from __future__ import annotations

from sqlalchemy import delete, select

from crm.activity.models import Note, TimelineEvent
from crm.activity.services import record_event
from crm.audit.services import audit
from crm.extensions import db
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.timeutil import utcnow

ANONYMISED = "–"


def anonymise_inquiry(inquiry, actor, reason: str) -> None:
    """Blank the submitter's details and free text; category, dates and status stay."""
    inquiry.contact_name = ANONYMISED
    inquiry.email = ANONYMISED
    inquiry.phone = None
    inquiry.subject = ANONYMISED
    inquiry.message = ANONYMISED
    inquiry.organisation_number = None
    inquiry.status_token_hash = None
    inquiry.anonymised_at = utcnow()
    for note in db.session.scalars(select(Note).where(Note.inquiry_id == inquiry.id)):
        note.body = ANONYMISED
    for event in db.session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind == "public_reply"
        )
    ):
        event.data = {}
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.inquiry_id == inquiry.id, OutboxMessage.status != OutboxStatus.SENT
        )
    )
    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.inquiry_id == inquiry.id)
        .values(recipient=ANONYMISED, subject=ANONYMISED, body_text=ANONYMISED, body_html=None)
    )
    record_event("anonymised", actor, inquiry=inquiry, reason=reason)
    audit("inquiry_anonymised", actor, inquiry, reason=reason)
    db.session.flush()
