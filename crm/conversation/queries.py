"""The thread of an inquiry, read in a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm.activity.models import Note, TimelineEvent
from crm.attachments.queries import Files, files_of_entries
from crm.conversation.models import InboundMail, InboundStatus, Message
from crm.extensions import db
from crm.mail.models import OutboxMessage
from crm.validation import database_id


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


# A long thread opens on its latest entries; the rest is one click away. The page then costs
# the same for 30 entries or 3 000.
THREAD_SHOWN = 50


@dataclass(frozen=True)
class Thread:
    entries: list[ThreadEntry]
    earlier: int  # entries not shown, older than the first one shown
    files: Files  # of the entries shown


def thread_of(inquiry, shown: int | None = THREAD_SHOWN) -> Thread:
    """Everything said with and about the submitter, oldest first: the inquiry, then the
    latest `shown` of its messages both ways, internal notes and logged contacts (all with
    None), with their files. Four statements, the first three each reading at most `shown`
    rows with the total beside them."""
    sources = (
        ("message", select(Message).options(
            joinedload(Message.author), joinedload(Message.inbound_mail)
        ).where(Message.inquiry_id == inquiry.id), Message),
        ("note", select(Note).options(joinedload(Note.author))
         .where(Note.inquiry_id == inquiry.id), Note),
        ("contact", select(TimelineEvent).options(joinedload(TimelineEvent.actor)).where(
            TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind == "contact_logged"
        ), TimelineEvent),
    )  # fmt: skip
    entries, total = [], 0
    for kind, query, model in sources:
        query = query.add_columns(func.count().over()).order_by(
            model.created_at.desc(), model.id.desc()
        )
        if shown is not None:
            query = query.limit(shown)
        rows = db.session.execute(query).unique().all()
        total += rows[0][1] if rows else 0
        internal = kind != "message"
        entries += [ThreadEntry(kind, item.created_at, item, internal) for item, _ in rows]
    entries.sort(key=lambda entry: (entry.at, _KIND_ORDER[entry.kind], entry.item.id))
    if shown is not None:
        entries = entries[-shown:]
    original = ThreadEntry("original", inquiry.created_at, inquiry, internal=False)
    files = files_of_entries(
        inquiry,
        message_ids=[entry.item.id for entry in entries if entry.kind == "message"],
        note_ids=[entry.item.id for entry in entries if entry.kind == "note"],
    )
    return Thread([original, *entries], earlier=total - len(entries), files=files)


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


# ---- the unsorted queue ------------------------------------------------------------------

QUEUE_LIMIT = 100


def unsorted_mail(limit: int = QUEUE_LIMIT) -> list[InboundMail]:
    """The queue, oldest first; a sender's flood after everyone else's mail."""
    return list(
        db.session.scalars(
            select(InboundMail)
            .where(InboundMail.status == InboundStatus.UNSORTED)
            .order_by(InboundMail.flooded, InboundMail.received_at, InboundMail.id)
            .limit(limit)
        )
    )


def count_unsorted() -> int:
    """How many e-mails wait in the unsorted queue (status index)."""
    return db.session.scalar(
        select(func.count()).where(InboundMail.status == InboundStatus.UNSORTED)
    )


def get_mail_or_404(mail_id: int) -> InboundMail:
    mail = db.session.get(InboundMail, mail_id)
    if mail is None:
        abort(404)
    return mail


def unsorted_mail_named(value: str | None) -> InboundMail | None:
    """The unsorted e-mail a form names by id; None for no id, or one already sorted."""
    mail_id = database_id(value)
    if mail_id is None:
        return None
    mail = db.session.get(InboundMail, mail_id)
    return mail if mail is not None and mail.status is InboundStatus.UNSORTED else None
