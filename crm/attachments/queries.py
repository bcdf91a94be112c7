"""Reading attachments: the files of a thread in one statement, and one file for download."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import abort
from sqlalchemy import and_, or_, select

from crm.attachments import storage
from crm.attachments.models import Attachment, ScanStatus
from crm.extensions import db


@dataclass(frozen=True)
class Files:
    """Attachments by what they belong to: the original message, a message or a note."""

    by_owner: dict[tuple[str, int | None], list[Attachment]] = field(default_factory=dict)

    def of(self, kind: str, item_id: int | None = None) -> list[Attachment]:
        return self.by_owner.get((kind, item_id), [])


def _owner(attachment: Attachment) -> tuple[str, int | None]:
    if attachment.note_id is not None:
        return ("note", attachment.note_id)
    if attachment.message_id is not None:
        return ("message", attachment.message_id)
    return ("original", None)


def _grouped(attachments: Iterable[Attachment]) -> Files:
    by_owner: dict = defaultdict(list)
    for attachment in attachments:
        by_owner[_owner(attachment)].append(attachment)
    return Files(dict(by_owner))


def _original(inquiry_id: int):
    return and_(
        Attachment.inquiry_id == inquiry_id,
        Attachment.message_id.is_(None),
        Attachment.note_id.is_(None),
    )


def files_of_entries(inquiry, message_ids: list[int], note_ids: list[int]) -> Files:
    """The files of the original message and of the thread entries shown: one statement."""
    return _grouped(
        db.session.scalars(
            select(Attachment)
            .where(
                or_(
                    _original(inquiry.id),
                    Attachment.message_id.in_(message_ids),
                    Attachment.note_id.in_(note_ids),
                )
            )
            .order_by(Attachment.id)
        )
    )


def public_files_of(inquiry) -> Files:
    """What the submitter sees: the files of the original message and of every message."""
    return _grouped(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.inquiry_id == inquiry.id, Attachment.note_id.is_(None))
            .order_by(Attachment.id)
        )
    )


def files_of_mail(mail_ids: list[int]) -> dict[int, list[Attachment]]:
    """The files of e-mails in the unsorted queue, by e-mail."""
    by_mail: dict = defaultdict(list)
    for attachment in db.session.scalars(
        select(Attachment).where(Attachment.inbound_mail_id.in_(mail_ids)).order_by(Attachment.id)
    ):
        by_mail[attachment.inbound_mail_id].append(attachment)
    return dict(by_mail)


def files_of_mail_message(message_id: str) -> list[Attachment]:
    """The files of the thread message sent as the e-mail with this Message-ID."""
    from crm.conversation.models import Message

    return list(
        db.session.scalars(
            select(Attachment)
            .join(Message, Attachment.message_id == Message.id)
            .where(Message.message_id == message_id)
            .order_by(Attachment.id)
        )
    )


def unsendable(files: list[Attachment]) -> str | None:
    """Why a mail carrying these files cannot go now, or None."""
    for file in files:
        if file.scan_status is ScanStatus.INFECTED:
            return f"the attachment {file.filename!r} was quarantined by the virus scanner"
        if not file.servable:
            return f"the attachment {file.filename!r} waits for the virus scanner"
        if not storage.path_of(file.storage_key).is_file():
            return f"the attachment {file.filename!r} is missing from ATTACHMENTS_DIR"
    return None


def read_file(attachment: Attachment) -> bytes:
    return storage.path_of(attachment.storage_key).read_bytes()


def get_attachment_or_404(attachment_id: int) -> Attachment:
    return db.session.get(Attachment, attachment_id) or abort(404)


def needing_attention(limit: int = 200) -> list[Attachment]:
    """Quarantined files and files still waiting for the scanner, for the admin."""
    return list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.scan_status.in_((ScanStatus.INFECTED, ScanStatus.PENDING)))
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
            .limit(limit)
        )
    )


def files_by_reference(references: list[str]) -> dict[str, list[str]]:
    """The file names of these inquiries, for a dry run's list."""
    from crm.inquiries.models import Inquiry

    by_reference: dict = defaultdict(list)
    for reference, filename in db.session.execute(
        select(Inquiry.reference, Attachment.filename)
        .join(Attachment, Attachment.inquiry_id == Inquiry.id)
        .where(Inquiry.reference.in_(references))
        .order_by(Attachment.id)
    ):
        by_reference[reference].append(filename)
    return dict(by_reference)
