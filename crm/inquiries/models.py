from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, and_, text
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.choices import Addressee, Category, Channel, OrganisationType, Priority
from crm.core.sql import unindexed
from crm.dbtypes import enum_column
from crm.extensions import db
from crm.inquiries.statuses import AWAITING_RESPONSE_STATUSES, Outcome, Status
from crm.partners.models import Organisation
from crm.timeutil import UTCDateTime, utcnow

AUTHORITY_TYPES = frozenset(
    {
        OrganisationType.GOVERNMENT_AGENCY,
        OrganisationType.MUNICIPALITY_REGION,
        OrganisationType.UNIVERSITY,
    }
)
# Case-folding can lengthen text ("ß" becomes "ss", some letters three): room for 60 of those.
COUNTERPART_KEY_MAX = 180


class Inquiry(db.Model):
    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), default=Channel.WEB_FORM)

    organisation_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    organisation_type: Mapped[OrganisationType] = mapped_column(enum_column(OrganisationType))
    organisation_number: Mapped[str | None] = mapped_column(String(11))

    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))

    category: Mapped[Category] = mapped_column(enum_column(Category))
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    addressee: Mapped[Addressee] = mapped_column(
        enum_column(Addressee), default=Addressee.NO_PREFERENCE
    )

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # When the assignee first opened the inquiry after it was given to them; every assignment
    # clears it, so a handed-over inquiry shows up in the new assignee's inbox.
    assignee_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.NEW)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.NORMAL)
    # How it ended (agreed, declined, withdrawn, spam); kept through `closed`, cleared on reopening.
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))

    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The response clock stops while the inquiry is on hold: since when, and how many working
    # days earlier pauses gave back (the deadline is the target plus these).
    response_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_paused_days: Mapped[int] = mapped_column(default=0, server_default="0")
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consent_text_version: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Only a SHA-256 of the submitter's link token is kept; the token itself is mailed once.
    status_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The token is derived from this seed under the secret key (`intake.status_link`), so later
    # mail can carry the link; without the secret key the seed gives nothing away.
    status_link_seed: Mapped[str | None] = mapped_column(String(64))
    # The submitter wrote (status page or e-mail) and no one has answered or acknowledged it.
    submitter_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language the submitter used the public form in ("sv", "en"); unknown for inquiries
    # staff logged: replies from templates are then in Swedish.
    language: Mapped[str | None] = mapped_column(String(2))
    # The counterpart's own case number (motpartens diarienummer), as they write it, and the
    # same folded (no spaces, case-folded) for the list's search (`counterpart_key_of`).
    counterpart_reference: Mapped[str | None] = mapped_column(String(60))
    counterpart_key: Mapped[str | None] = mapped_column(String(COUNTERPART_KEY_MAX))

    version: Mapped[int] = mapped_column(default=1)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    region_links: Mapped[list[InquiryRegion]] = relationship(
        cascade="all, delete-orphan", order_by="InquiryRegion.region_code"
    )
    conflicts: Mapped[list[ConflictDeclaration]] = relationship(
        back_populates="inquiry",
        cascade="all, delete-orphan",
        order_by="ConflictDeclaration.declared_at, ConflictDeclaration.id",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index("ix_inquiries_created_at_id", "created_at", "id"),
        Index("ix_inquiries_status_created_at", "status", "created_at", "id"),
        Index("ix_inquiries_assignee_status_created_at", "assignee_id", "status", "created_at"),
        Index("ix_inquiries_organisation_created_at", "organisation_id", "created_at"),
        Index("ix_inquiries_status_due", "status", "first_response_due_at"),
        Index("ix_inquiries_category_created_at", "category", "created_at"),
        # the inbox: my overdue first responses, and the unassigned newest first
        Index("ix_inquiries_assignee_status_due", "assignee_id", "status", "first_response_due_at"),
        Index("ix_inquiries_assignee_created_at", "assignee_id", "created_at"),
        Index("ix_inquiries_status_closed_at", "status", "closed_at"),
        # the inbox: handed to me and not opened yet (few rows, so a partial index)
        Index(
            "ix_inquiries_assignee_unseen",
            "assignee_id",
            "created_at",
            "id",
            "status",  # the menu counts them from the index alone (migration 0020)
            postgresql_where=text("assignee_seen_at IS NULL"),
            sqlite_where=text("assignee_seen_at IS NULL"),
        ),
        # the inbox: answers from submitters waiting for staff (few rows, so a partial index)
        Index(
            "ix_inquiries_submitter_replied",
            "assignee_id",
            "submitter_replied_at",
            postgresql_where=text("submitter_replied_at IS NOT NULL"),
            sqlite_where=text("submitter_replied_at IS NOT NULL"),
        ),
        # the list's search by the counterpart's case number (few inquiries have one)
        Index(
            "ix_inquiries_counterpart_key",
            "counterpart_key",
            postgresql_where=text("counterpart_key IS NOT NULL"),
            sqlite_where=text("counterpart_key IS NOT NULL"),
        ),
        # the pipeline's recent outcomes (latest decided first, in index order: the id breaks
        # ties), outcomes per year and the retention purge
        Index("ix_inquiries_outcome_closed_at", "outcome", "closed_at", "id"),
        # a person's inquiries still awaiting a first response, by deadline (inbox, reminders,
        # calendar); most inquiries have had one, so the index holds only the few that have not
        Index(
            "ix_inquiries_awaiting_response",
            "assignee_id",
            "first_response_due_at",
            "id",
            "status",  # the menu counts them from the index alone (migration 0020)
            postgresql_where=text("first_response_at IS NULL"),
            sqlite_where=text("first_response_at IS NULL"),
        ),
    )

    @property
    def to_authority(self) -> bool:
        """Whether a reply probably goes to a public authority, where it may be registered
        as an official document (allmän handling): an agency, municipality, region or
        university, or a counterpart that gave its own case number."""
        return self.organisation_type in AUTHORITY_TYPES or self.counterpart_reference is not None

    def declared_conflict(self, user) -> ConflictDeclaration | None:
        """The user's jäv declaration on this inquiry, if they made one."""
        return next((c for c in self.conflicts if c.user_id == user.id), None)

    @hybrid_property
    def awaiting_response(self) -> bool:
        """The partner still waits for a first response and the clock runs (not on hold)."""
        return self.first_response_at is None and self.status in AWAITING_RESPONSE_STATUSES

    @awaiting_response.inplace.expression
    @classmethod
    def _awaiting_response_expression(cls):
        # Few inquiries await a first response: their partial index (assignee, deadline),
        # not the status, should lead the search (see crm.core.sql.unindexed).
        return and_(
            cls.first_response_at.is_(None),
            unindexed(cls.status).in_(sorted(AWAITING_RESPONSE_STATUSES)),
        )

    @hybrid_method
    def response_overdue(self, now: datetime) -> bool:
        """Still awaiting a first response after its deadline: the one meaning of "late"."""
        return (
            self.awaiting_response
            and self.first_response_due_at is not None
            and self.first_response_due_at < now
        )

    @response_overdue.inplace.expression
    @classmethod
    def _response_overdue_expression(cls, now: datetime):
        return and_(
            cls.awaiting_response,
            cls.first_response_due_at.is_not(None),
            cls.first_response_due_at < now,
        )

    @property
    def regions(self) -> list[str]:
        return [link.region_code for link in self.region_links]

    @regions.setter
    def regions(self, codes: list[str]) -> None:
        self.region_links = [InquiryRegion(region_code=code) for code in dict.fromkeys(codes)]

    def __repr__(self) -> str:
        return f"<Inquiry {self.reference} {self.status}>"


class InquiryRegion(db.Model):
    """One län (or the whole country, code 00) that an inquiry concerns."""

    __tablename__ = "inquiry_regions"

    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class ReferenceCounter(db.Model):
    """The last reference number handed out per year; incremented in the inquiry's transaction."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class ConflictDeclaration(db.Model):
    """A lasting declaration of jäv: the user may read the inquiry but not act on it or be
    responsible for it."""

    __tablename__ = "conflict_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="conflicts")
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("inquiry_id", "user_id"),)


def counterpart_key_of(value: str | None) -> str | None:
    """A case number folded for searching: no white space, case-folded, so "KS 2026/45",
    "ks2026/45" and "KS  2026/45" are one number (the stored key and a search term alike)."""
    if not value:
        return None
    return "".join(value.split()).casefold() or None
