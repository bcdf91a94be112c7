"""The thread of an inquiry, read in a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.activity.models import Note, TimelineEvent
from crm.conversation.models import Message
from crm.extensions import db
from crm.mail.models import OutboxMessage


@dataclass(frozen=True)
class ThreadEntry:
    """One item of the staff's thread: the original inquiry, a message, an internal note or
    a logged contact. `internal` entries are never shown to the submitter."""

    kind: str
    at: datetime
    item: Any
    internal: bool


def messages_of(inquiry) -> list[Message]:
    """The public thread after the original message, oldest first: what the submitter sees."""
    return list(
        db.session.scalars(
            select(Message)
            .options(joinedload(Message.author), joinedload(Message.inbound_mail))
            .where(Message.inquiry_id == inquiry.id)
            .order_by(Message.created_at, Message.id)
        )
    )


def thread_of(inquiry) -> list[ThreadEntry]:
    """Everything said with and about the submitter, oldest first: the inquiry, messages both
    ways, internal notes and logged contacts (three statements)."""
    entries = [ThreadEntry("original", inquiry.created_at, inquiry, internal=False)]
    entries += [
        ThreadEntry("message", m.created_at, m, internal=False) for m in messages_of(inquiry)
    ]
    notes = db.session.scalars(
        select(Note).options(joinedload(Note.author)).where(Note.inquiry_id == inquiry.id)
    )
    entries += [ThreadEntry("note", note.created_at, note, internal=True) for note in notes]
    contacts = db.session.scalars(
        select(TimelineEvent)
        .options(joinedload(TimelineEvent.actor))
        .where(TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind == "contact_logged")
    )
    entries += [
        ThreadEntry("contact", event.created_at, event, internal=True) for event in contacts
    ]
    return sorted(entries, key=lambda entry: (entry.at, _KIND_ORDER[entry.kind], entry.item.id))


_KIND_ORDER = {"original": 0, "message": 1, "contact": 2, "note": 3}


def thread_message_ids(inquiry) -> list[str]:
    """The Message-IDs of the mail thread with the submitter, oldest first: the receipt, then
    every message sent or received by e-mail (a reply points at the last one)."""
    receipt = db.session.scalars(
        select(OutboxMessage.message_id)
        .where(OutboxMessage.inquiry_id == inquiry.id, OutboxMessage.kind == "receipt")
        .order_by(OutboxMessage.id)
        .limit(1)
    ).all()
    messages = db.session.scalars(
        select(Message.message_id)
        .where(Message.inquiry_id == inquiry.id, Message.message_id.is_not(None))
        .order_by(Message.created_at, Message.id)
    ).all()
    return [*receipt, *messages]


def inquiry_fields_from_mail(mail) -> dict:
    """What a new inquiry made from an unsorted e-mail starts with: the sender, the subject,
    the text, and the organisation the sender's domain belongs to, if the register knows it."""
    from crm.choices import Channel
    from crm.partners.services import match_organisation

    fields = {
        "channel": Channel.EMAIL.value,
        "contact_name": mail.sender_name or "",
        "email": mail.sender_address or "",
        "subject": (mail.subject or "")[:200],
        "message": mail.text or "",
    }
    if mail.sender_address:
        organisation = match_organisation(None, "", mail.sender_address)
        if organisation is not None:
            fields["organisation_name"] = organisation.name
            fields["organisation_type"] = organisation.type.value
    return fields
