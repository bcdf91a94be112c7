"""The conversation with the submitter: every message about an inquiry, both ways."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_messages_inquiry_created_at", "inquiry_id", "created_at", "id"),)

    @property
    def from_submitter(self) -> bool:
        return self.direction is Direction.INBOUND
