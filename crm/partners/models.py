from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, orm
from sqlalchemy.orm import Mapped, mapped_column

from crm.choices import OrganisationType, Relationship
from crm.dbtypes import enum_column
from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name folded for matching (case, spacing, legal-form suffixes); one record per key.
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(60))
    org_number: Mapped[str | None] = mapped_column(String(11), unique=True)
    type: Mapped[OrganisationType] = mapped_column(enum_column(OrganisationType))
    relationship: Mapped[Relationship] = mapped_column(enum_column(Relationship))
    website: Mapped[str | None] = mapped_column(String(300))
    email_domain: Mapped[str | None] = mapped_column(String(120), index=True)
    region: Mapped[str | None] = mapped_column(String(2), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # `orm.relationship`: the column below is itself named `relationship`.
    contacts: Mapped[list[Contact]] = orm.relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="Contact.name",
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class Contact(db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = orm.relationship(back_populates="contacts")
