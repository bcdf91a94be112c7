from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, orm
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
    # The address folded for uniqueness: one contact per organisation and address, whatever
    # its case. Kept in step with `email` by the validator below, so no caller can forget it.
    email_key: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = orm.relationship(back_populates="contacts")

    __table_args__ = (UniqueConstraint("organisation_id", "email_key"),)

    @orm.validates("email")
    def _fold_email(self, _key: str, value: str | None) -> str | None:
        self.email_key = email_key(value)
        return value


def email_key(address: str | None) -> str | None:
    """The form of an address two spellings share (case and surrounding spaces); None for none."""
    folded = (address or "").strip().lower()
    return folded or None


class OrganisationImport(db.Model):
    """An uploaded register file, parsed and waiting for its uploader to confirm the preview.

    The rows are kept here, not sent back by the browser, so what is confirmed is exactly what
    was checked; the row is deleted when the import is written, and after a day otherwise.
    """

    __tablename__ = "organisation_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    # The file's rows as read ({"line": n, "values": {column: text}}), and the preview's
    # verdict on each, compared with a fresh one when the import is confirmed.
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
