"""The conversation with the submitter: every message about an inquiry, both ways."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from crm.auth.models import User
from crm.choices import Choice, labelled
from crm.dbtypes import enum_column
from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow


@labelled({"inbound": _l("Från avsändaren"), "outbound": _l("Till avsändaren")})
class Direction(Choice):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@labelled(
    {
        "samverka": _l("i Samverka, skickat med e-post"),
        "status_page": _l("via statussidan"),
        "email": _l("via e-post"),
    }
)
class MessageChannel(Choice):
    """Where a message was written: a staff reply in Samverka (shown on the status page and
    mailed), the submitter's answer on the status page, or an e-mail."""

    SAMVERKA = "samverka"
    STATUS_PAGE = "status_page"
    EMAIL = "email"


class Message(db.Model):
    """One message of an inquiry's public thread; the submitter sees every one of them.

    Internal notes and logged contacts are not messages: they live in `activity` and join the
    staff's view of the thread there (`crm.conversation.queries.thread_of`).
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    channel: Mapped[MessageChannel] = mapped_column(enum_column(MessageChannel))
    # Staff who wrote it (outbound); the submitter's own name and address for inbound mail.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    sender_address: Mapped[str | None] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    # The Message-ID header it was sent or received with, so a reply can point at it and the
    # same e-mail is never stored twice.
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The e-mail it came in, for "show the whole message".
    inbound_mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()
    inbound_mail: Mapped[InboundMail | None] = relationship()

    __table_args__ = (Index("ix_messages_inquiry_created_at", "inquiry_id", "created_at", "id"),)

    @property
    def from_submitter(self) -> bool:
        return self.direction is Direction.INBOUND


@labelled(
    {
        "attached": _l("I en förfrågan"),
        "unsorted": _l("Osorterad"),
        "automatic": _l("Automatiskt svar"),
        "bounce": _l("Studsat meddelande"),
        "loop": _l("Vårt eget meddelande"),
        "discarded": _l("Kasserad"),
    }
)
class InboundStatus(Choice):
    """What became of an e-mail to the intake: on an inquiry's thread (or an internal note when
    staff wrote it), waiting in the unsorted queue, an automatic reply or bounce recorded on its
    inquiry, our own mail come back (never processed again), or discarded by staff."""

    ATTACHED = "attached"
    UNSORTED = "unsorted"
    AUTOMATIC = "automatic"
    BOUNCE = "bounce"
    LOOP = "loop"
    DISCARDED = "discarded"


class InboundMail(db.Model):
    """Every e-mail the intake received, kept whole (up to MAIL_MAX_BYTES) whatever became of
    it, once per Message-ID."""

    __tablename__ = "inbound_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sender's Message-ID, or one made from the content when it has none.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[InboundStatus] = mapped_column(enum_column(InboundStatus))
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiries.id", ondelete="SET NULL"), index=True
    )
    # Which rule matched it to its inquiry: message_id, plus_address, subject_and_sender.
    matched_by: Mapped[str | None] = mapped_column(String(20))
    sender_address: Mapped[str | None] = mapped_column(String(254), index=True)
    sender_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    text: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(default=0)
    # Why it could not be read or matched, for the person sorting it.
    error: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    # More unsorted mail from the sender than a day allows: listed after everyone else's.
    flooded: Mapped[bool] = mapped_column(Boolean, default=False)
    # SHA-256 of the body: the same Message-ID on different content is another message.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_inbound_mails_status_received_at", "status", "received_at"),)
