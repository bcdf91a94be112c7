"""Files that travel with an inquiry: on its original message, a message of the thread, an
internal note, or an e-mail the intake received."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.choices import Choice, labelled
from crm.dbtypes import enum_column
from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow


@labelled(
    {
        "pending": _l("Väntar på viruskontroll"),
        "clean": _l("Viruskontrollerad"),
        "infected": _l("Spärrad: skadlig kod"),
        "not_scanned": _l("Ingen viruskontroll"),
    }
)
class ScanStatus(Choice):
    """`pending`: a scanner is configured but has not yet answered for the file (it is never
    served until it has); `not_scanned`: no scanner was configured when it arrived."""

    PENDING = "pending"
    CLEAN = "clean"
    INFECTED = "infected"
    NOT_SCANNED = "not_scanned"


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The inquiry it belongs to; none while its e-mail waits in the unsorted queue. With no
    # message or note it belongs to the inquiry's original message.
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"))
    inbound_mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="CASCADE")
    )
    # Cleaned, as shown and offered for download; the file on disk is `storage_key`.
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    # <first two hex of the hash>/<hash>-<random>: one file per row, so removing a row's file
    # never takes one that another row still needs.
    storage_key: Mapped[str] = mapped_column(String(120), unique=True)
    scan_status: Mapped[ScanStatus] = mapped_column(enum_column(ScanStatus))
    scan_signature: Mapped[str | None] = mapped_column(String(200))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_attachments_inquiry_id", "inquiry_id"),
        Index("ix_attachments_message_id", "message_id"),
        Index("ix_attachments_note_id", "note_id"),
        Index("ix_attachments_inbound_mail_id", "inbound_mail_id"),
        Index("ix_attachments_scan_status", "scan_status"),
    )

    @property
    def servable(self) -> bool:
        """Scanned and clean; or never scanned because no scanner is configured. Once one is,
        files that came before it wait for `scan-attachments` like any other."""
        from crm.attachments.scanning import scanner_configured

        if self.scan_status is ScanStatus.NOT_SCANNED:
            return not scanner_configured()
        return self.scan_status is ScanStatus.CLEAN
