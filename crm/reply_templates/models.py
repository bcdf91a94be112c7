"""Reply templates (svarsmallar): shared ones, and each person's own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow

NAME_MAX = 120
TEXT_MAX = 5000


class ReplyTemplate(db.Model):
    """A ready reply with placeholders; `owner` set means personal (only its owner sees it),
    unset means shared by everyone who replies."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    text_sv: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship()

    @property
    def shared(self) -> bool:
        return self.owner_id is None

    def __repr__(self) -> str:
        return f"<ReplyTemplate {self.id} {self.name!r}>"
