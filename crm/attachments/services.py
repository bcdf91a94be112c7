"""Taking files in, scanning them, and letting them go (GDPR, retention, orphans)."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from crm.attachments import storage
from crm.attachments.detection import EXTENSION_ALIASES, FileKind, clean_filename, identify
from crm.attachments.models import Attachment, ScanStatus
from crm.attachments.scanning import ScanResult, Verdict, scan_path
from crm.audit.services import audit
from crm.errors import DomainError
from crm.extensions import db
from crm.timeutil import utcnow

log = logging.getLogger(__name__)

SCAN_STATUS = {
    Verdict.CLEAN: ScanStatus.CLEAN,
    Verdict.INFECTED: ScanStatus.INFECTED,
    Verdict.UNAVAILABLE: ScanStatus.PENDING,
    Verdict.NOT_CONFIGURED: ScanStatus.NOT_SCANNED,
}


def upload_limit() -> int:
    """The most a request with files may carry: every file at its largest, so that files too
    large together are refused beside the field (`check_uploads`), not by a bare 413 page."""
    config = current_app.config
    return max(
        config["ATTACHMENT_MAX_FILES"] * config["ATTACHMENT_MAX_BYTES"],
        config["ATTACHMENT_MAX_TOTAL_BYTES"],
    )


def attachment_hint() -> str:
    """The limits and types, shown under every file field."""
    config = current_app.config
    return _(
        "Högst %(files)d filer, %(each)s MB per fil och %(total)s MB sammanlagt. PDF, Word, "
        "Excel, PowerPoint, OpenDocument, text, CSV och bilder (JPG, PNG, GIF, WebP, HEIC).",
        files=config["ATTACHMENT_MAX_FILES"],
        each=_megabytes(config["ATTACHMENT_MAX_BYTES"]),
        total=_megabytes(config["ATTACHMENT_MAX_TOTAL_BYTES"]),
    )


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.0f}"


def _size_of(stream) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def check_uploads(files: Sequence, field: str = "files") -> list[tuple[object, FileKind]]:
    """The chosen files (Werkzeug FileStorage) with their types, or a DomainError naming the
    first file or limit that is refused. Nothing is written."""
    config = current_app.config
    files = [upload for upload in files or () if upload and upload.filename]
    if len(files) > config["ATTACHMENT_MAX_FILES"]:
        raise DomainError(
            ngettext("Högst %(num)d fil.", "Högst %(num)d filer.", config["ATTACHMENT_MAX_FILES"]),
            field=field,
        )
    total = 0
    for upload in files:
        size = _size_of(upload.stream)
        if size > config["ATTACHMENT_MAX_BYTES"]:
            raise DomainError(
                _(
                    "Filen ”%(name)s” är för stor (högst %(mb)s MB per fil).",
                    name=clean_filename(upload.filename),
                    mb=_megabytes(config["ATTACHMENT_MAX_BYTES"]),
                ),
                field=field,
            )
        total += size
    if total > config["ATTACHMENT_MAX_TOTAL_BYTES"]:
        raise DomainError(
            _(
                "Filerna är för stora tillsammans (högst %(mb)s MB).",
                mb=_megabytes(config["ATTACHMENT_MAX_TOTAL_BYTES"]),
            ),
            field=field,
        )
    return [(upload, identify(upload.stream, upload.filename, field)) for upload in files]


@dataclass(frozen=True)
class PreparedFile:
    """A file checked, written to the store and scanned, not yet in the database."""

    filename: str
    kind: FileKind
    stored: storage.StoredFile
    scan: ScanResult


def prepare_uploads(files: Sequence, field: str = "files") -> list[PreparedFile]:
    """Check, store and scan the chosen files without touching the database, so slow work
    (a 25 MB scan) holds no lock. A refused file refuses them all."""
    return [
        _prepare(upload.stream, upload.filename, kind)
        for upload, kind in check_uploads(files, field)
    ]


def _prepare(stream, filename: str, kind: FileKind) -> PreparedFile:
    stored = storage.store(stream, db.session)
    name = _with_extension(clean_filename(filename), kind)
    return PreparedFile(name, kind, stored, scan_path(storage.path_of(stored.storage_key)))


def refuse_infected(files: Sequence[PreparedFile], field: str = "files") -> None:
    """A message that is sent on (a staff reply) cannot carry a file the scanner stopped."""
    for file in files:
        if file.scan.verdict is Verdict.INFECTED:
            raise DomainError(
                _(
                    "Virusskannern stoppade filen ”%(name)s” (%(finding)s). Ta bort den och "
                    "skicka igen.",
                    name=file.filename,
                    finding=file.scan.signature or "?",
                ),
                field=field,
            )


def save_uploads(files: Sequence, *, field: str = "files", **owner) -> list[Attachment]:
    """Check, store and scan the chosen files and attach them to `owner` (inquiry=, message=,
    note=, inbound_mail=, uploaded_by=)."""
    return attach_files(prepare_uploads(files, field), **owner)


def save_mail_part(payload: bytes, filename: str, **owner) -> Attachment | None:
    """A file of a received e-mail, or None when its type is not taken (the e-mail as
    received keeps it)."""
    stream = io.BytesIO(payload)
    if len(payload) > current_app.config["ATTACHMENT_MAX_BYTES"]:
        log.info("e-mail attachment %r not kept: %d bytes", filename, len(payload))
        return None
    try:
        kind = identify(stream, filename or "fil")
    except DomainError as refused:
        log.info("e-mail attachment %r not kept: %s", filename, refused)
        return None
    return attach_files([_prepare(stream, filename or "fil", kind)], **owner)[0]


def attach_files(prepared: Sequence[PreparedFile], *, inquiry=None, message=None, note=None,
                 inbound_mail=None, uploaded_by=None) -> list[Attachment]:  # fmt: skip
    attachments = [
        Attachment(
            inquiry_id=_inquiry_id(inquiry, message, note),
            message_id=getattr(message, "id", None),
            note_id=getattr(note, "id", None),
            inbound_mail_id=getattr(inbound_mail, "id", None),
            filename=file.filename,
            content_type=file.kind.mime,
            extension=file.kind.extension,
            size=file.stored.size,
            sha256=file.stored.sha256,
            storage_key=file.stored.storage_key,
            scan_status=ScanStatus.PENDING,
            uploaded_by_id=getattr(uploaded_by, "id", None),
        )
        for file in prepared
    ]
    db.session.add_all(attachments)
    db.session.flush()
    for attachment, file in zip(attachments, prepared, strict=True):
        _record_scan(attachment, file.scan)
    return attachments


def _inquiry_id(inquiry, message, note) -> int | None:
    if inquiry is not None:
        return inquiry.id
    owner = message or note
    return owner.inquiry_id if owner is not None else None


def _with_extension(filename: str, kind: FileKind) -> str:
    """The name ends in the type's extension, so the file opens in the right program."""
    _stem, dot, extension = filename.rpartition(".")
    if dot and EXTENSION_ALIASES.get(extension.lower(), extension.lower()) == kind.extension:
        return filename
    return f"{filename}.{kind.extension}"


def _record_scan(attachment: Attachment, result, now: datetime | None = None) -> None:
    attachment.scan_status = SCAN_STATUS[result.verdict]
    if result.verdict in (Verdict.CLEAN, Verdict.INFECTED):
        attachment.scanned_at = now or utcnow()
    if result.verdict is Verdict.INFECTED:
        attachment.scan_signature = (result.signature or "")[:200]
        log.warning("attachment %d quarantined: %s", attachment.id, result.signature)
        audit("attachment_quarantined", None, attachment, signature=result.signature,
              actor_label="clamd")  # fmt: skip


# Unanswered scans in a row after which a run stops: the scanner is down, not one file odd.
GIVE_UP_AFTER = 3


def scan_waiting(limit: int = 500) -> dict[str, int]:
    """Scan files that arrived while the scanner was down, and files that came before one was
    configured (`flask crm scan-attachments`); each is committed on its own, so a scanner
    going down mid-run keeps what was done. One file the scanner cannot answer for (say,
    larger than its StreamMaxLength) stays waiting without holding up the others."""
    counts = {status.value: 0 for status in ScanStatus}
    waiting = db.session.scalars(
        select(Attachment.id)
        .where(Attachment.scan_status.in_((ScanStatus.PENDING, ScanStatus.NOT_SCANNED)))
        .order_by(Attachment.id)
        .limit(limit)
    ).all()
    unanswered = 0
    for attachment_id in waiting:
        attachment = db.session.get(Attachment, attachment_id)
        result = _scan_stored(attachment)
        _record_scan(attachment, result)
        counts[attachment.scan_status.value] += 1
        db.session.commit()
        unanswered = unanswered + 1 if result.verdict is Verdict.UNAVAILABLE else 0
        if unanswered >= GIVE_UP_AFTER:
            break  # the scanner is down: the rest waits for the next run
    return counts


def _scan_stored(attachment: Attachment) -> ScanResult:
    path = storage.path_of(attachment.storage_key)
    if not path.is_file():
        log.error("attachment %d: its file %s is missing", attachment.id, attachment.storage_key)
        return ScanResult(Verdict.UNAVAILABLE)
    return scan_path(path)


# ---- moving with their message ------------------------------------------------------------


def move_mail_files(mail, *, inquiry=None, message=None, note=None) -> None:
    """A received e-mail found its place: its files go with it."""
    for attachment in db.session.scalars(
        select(Attachment).where(Attachment.inbound_mail_id == mail.id)
    ):
        attachment.inquiry_id = _inquiry_id(inquiry, message, note)
        attachment.message_id = getattr(message, "id", None)
        attachment.note_id = getattr(note, "id", None)


# ---- letting go -----------------------------------------------------------------------------


def delete_attachments(condition) -> list[str]:
    """Delete the rows matching `condition` now and their files once that is committed;
    returns the file names, for a dry run's list."""
    attachments = db.session.scalars(select(Attachment).where(condition)).all()
    storage.remove_after_commit(db.session, [a.storage_key for a in attachments])
    for attachment in attachments:
        db.session.delete(attachment)
    db.session.flush()
    return [attachment.filename for attachment in attachments]


def attachments_where(condition) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(condition).order_by(Attachment.id)))


def clean_orphans(older_than_seconds: int = 3600) -> list[str]:
    """Files on disk that no row names (a crash between writing and committing)."""
    known = set(db.session.scalars(select(Attachment.storage_key)))
    return storage.remove_orphans(known, older_than_seconds)


def audit_download(attachment: Attachment, actor) -> None:
    audit("attachment_downloaded", actor, attachment, inquiry=attachment.inquiry_id)
