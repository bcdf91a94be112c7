"""Free tags (etiketter) on inquiries and organisations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow

NAME_MAX = 60
# Case folding can lengthen a name ("ß" folds to "ss"); three times the name always fits.
KEY_MAX = 3 * NAME_MAX


class Tag(db.Model):
    """A tag as people write it (`name`) and folded (`key`): one tag per key, so "Remiss" and
    "remiss" are the same tag on SQLite and PostgreSQL alike."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Tag {self.id} {self.name!r}>"


# Plain association tables: a row says "this inquiry (organisation) has this tag"; the primary
# key makes a second identical row impossible, and removing either side removes the row.
inquiry_tags = Table(
    "inquiry_tags",
    db.metadata,
    Column("inquiry_id", ForeignKey("inquiries.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

organisation_tags = Table(
    "organisation_tags",
    db.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)
