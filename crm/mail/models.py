from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.choices import Choice, labelled
from crm.dbtypes import enum_column
from crm.extensions import db
from crm.mail.threading import new_message_id
from crm.timeutil import UTCDateTime, utcnow


@labelled(
    {
        "pending": _l("Väntar"),
        "sending": _l("Skickas"),
        "sent": _l("Skickat"),
        "failed": _l("Misslyckat"),
        "held": _l("Hålls kvar"),
        "discarded": _l("Kasserat"),
    }
)
class OutboxStatus(Choice):
    """Where a message is: `pending` → `sending` (claimed, leased) → `sent` or back to `pending`
    for a retry, or `failed` when the give-up window has passed. `held` messages (restored from
    a backup) wait for the admin, who sends them again or discards them."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"
    DISCARDED = "discarded"


# What each kind of message is, for the admin's mail page; unknown kinds show as stored.
KIND_LABELS = {
    "receipt": _l("Mottagningskvitto"),
    "assignee_notice": _l("Avisering till ansvarig"),
    "reminder": _l("Påminnelse"),
    "public_reply": _l("Svar till avsändaren"),
    "submitter_reply_notice": _l("Avisering om svar från avsändaren"),
    "invitation": _l("Inbjudan till Samverka"),
    "password_reset": _l("Länk för nytt lösenord"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


# Messages the admin must look at, and the ones the admin may act on.
NEEDS_ADMIN = (OutboxStatus.FAILED, OutboxStatus.HELD)
ADMIN_MAY_RESEND = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.HELD)
ADMIN_MAY_DISCARD = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.HELD)


class OutboxMessage(db.Model):
    """An e-mail written in the same transaction as the change it reports, sent later."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    # Empty while `render_data` is set: the sender renders them at its first claim.
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # A mail queued by a request that should not pay for its templates (a submission's receipt
    # and notice): the template, the language and the ids its context is built from, never the
    # text itself. The sender renders it when it first claims it, keeps subject and bodies for
    # every later attempt, and clears this. None for mail rendered when it was queued.
    render_data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    message_id: Mapped[str] = mapped_column(String(255), unique=True, default=new_message_id)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Start of the give-up window: when it was queued, or when the admin sent it again.
    pending_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The lease of a sender that claimed it (status `sending`); another sender may take the
    # message over only after claimed_until, so a sender that died strands nothing.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A delivery status notification said it did not arrive (last_error holds its reason).
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiries.id", ondelete="SET NULL"), index=True
    )
    # Makes a message idempotent, e.g. one reminder digest per user and day.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # Threading and the sender's name (a reply a person wrote goes out under their name).
    from_name: Mapped[str | None] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    thread_references: Mapped[str | None] = mapped_column(Text)
    # When it was queued; also its Date: header, so every attempt sends the same bytes.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)
