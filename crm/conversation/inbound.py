"""E-mail to the intake becomes part of an inquiry: one service for `fetch-mail` (IMAP) and
`receive-mail` (a message on standard input).

Matching, in order: a Message-ID of ours with a valid signature in In-Reply-To/References;
a signed plus-address; the `[SAM-…]` tag in the subject *and* the inquiry's submitter as the
sender, vouched for by the receiving server when MAIL_AUTHSERV_ID is set (an unsigned reference
from anyone else must not write into an inquiry); otherwise the unsorted queue, where a person
decides. Nothing is dropped: a mail that
cannot be read or is too large also waits there, with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from crm.activity.services import add_note, record_event
from crm.attachments.services import delete_attachments, move_mail_files, save_mail_part
from crm.conversation.mailtext import body_text, new_text, parse
from crm.conversation.models import (
    Direction,
    InboundMail,
    InboundStatus,
    Message,
    MessageChannel,
)
from crm.conversation.services import submitter_wrote
from crm.errors import DomainError
from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.inquiries.queries import inquiry_by_reference
from crm.mail.models import OutboxMessage
from crm.mail.services import one_line
from crm.mail.threading import (
    SIGNED_ID,
    plus_address_reference,
    sender_domain,
    signed_reference,
    subject_reference,
)
from crm.timeutil import utcnow
from crm.validation import strip_control_characters

log = logging.getLogger(__name__)

# Headers read from a message too large to keep, to say whose it was.
HEAD_BYTES = 64 * 1024
AUTOMATIC_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}


@dataclass(frozen=True)
class Received:
    """What became of one e-mail: its row, whether it was new, and the inquiry it joined."""

    mail_id: int
    status: InboundStatus
    reference: str | None
    duplicate: bool = False


def receive(raw: bytes, now: datetime | None = None) -> Received:
    """Store one e-mail once and file it. The caller commits; only then may the mailbox forget
    the message. Whatever goes wrong while filing, the mail is kept, unsorted, with the reason:
    one odd message must never block the intake."""
    now = now or utcnow()
    too_large = len(raw) > current_app.config["MAIL_MAX_BYTES"]
    try:
        message = parse(raw[:HEAD_BYTES] if too_large else raw)
        message_id = _message_id(message, raw)
    except Exception as exc:  # unreadable: keep it whole for a person
        log.warning("inbound mail could not be parsed: %s", exc)
        return _store_unreadable(raw, f"{type(exc).__name__}: {exc}", now)
    content = _content_hash(raw)
    existing = _stored(message_id)
    if existing is not None and existing.content_sha256 not in (None, content):
        # The same Message-ID on a different message (a sloppy sender): a message of its own.
        message_id = _normalised(f"{message_id[:-1]}.{content[:16]}>")
        existing = _stored(message_id)
    if existing is not None:
        reference = existing.inquiry_id and _reference_of(existing.inquiry_id)
        return Received(existing.id, existing.status, reference, duplicate=True)
    try:
        with db.session.begin_nested():
            mail = _new_row(message, message_id, raw, content, now)
            db.session.add(mail)
            db.session.flush()
            if not too_large:
                _keep_files(mail, message)
            _read_and_file(mail, message, too_large, now)
            db.session.flush()
    except Exception as exc:
        if _stored(message_id) is not None:
            # Another fetch-mail or receive-mail (another host, a second Postfix pipe) stored
            # this Message-ID between our look-up and our insert, and our insert waited for it
            # and failed. Decide again with its row in sight: the same message is a duplicate,
            # different content under the same Message-ID is stored under an id of its own.
            log.info("inbound mail %s was stored meanwhile by another run", message_id)
            return receive(raw, now)
        log.exception("inbound mail %s could not be filed; kept unsorted", message_id)
        mail = InboundMail(
            message_id=message_id, status=InboundStatus.UNSORTED, size=len(raw),
            raw=None if too_large else raw, content_sha256=content, received_at=now,
            error=one_line(f"Kunde inte sorteras: {type(exc).__name__}: {exc}")[:2000],
        )  # fmt: skip
    return _saved(mail)


def _read_and_file(mail: InboundMail, message: EmailMessage, too_large: bool, now) -> None:
    if too_large:
        limit = current_app.config["MAIL_MAX_BYTES"]
        mail.raw, mail.status = None, InboundStatus.UNSORTED
        mail.error = f"För stort: {mail.size} byte (högst {limit})."
        return
    try:
        mail.text = body_text(message)
    except Exception as exc:
        mail.status, mail.error = InboundStatus.UNSORTED, one_line(f"{type(exc).__name__}: {exc}")
        return
    _file(mail, message, now)


# Files kept from one e-mail at most; the rest stay in the mail as received.
MAIL_FILES_KEPT = 20


def _keep_files(mail: InboundMail, message: EmailMessage) -> None:
    """The mail's files become attachments (of its message, once it has one). Pictures the
    text shows (a signature's logo, `cid:` in the HTML) are no files anyone sent; they stay in
    the mail as received, like files of a refused type and any beyond MAIL_FILES_KEPT."""
    shown = _embedded_ids(message)
    kept = 0
    for part in message.walk():
        if kept >= MAIL_FILES_KEPT:
            log.info("inbound mail %s: more than %d files", mail.message_id, MAIL_FILES_KEPT)
            return
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        filename = part.get_filename()
        content_id = str(part.get("Content-ID", "")).strip().strip("<>")
        if not filename or (content_id and content_id in shown):
            continue
        payload = part.get_payload(decode=True)
        if payload and save_mail_part(payload, filename, inbound_mail=mail) is not None:
            kept += 1


def _embedded_ids(message: EmailMessage) -> set[str]:
    """The Content-IDs the mail's HTML shows inline (`<img src="cid:…">`)."""
    html = message.get_body(preferencelist=("html",))
    if html is None:
        return set()
    try:
        return {found.strip() for found in re.findall(r"cid:([^\"'>\s]+)", html.get_content())}
    except (LookupError, ValueError):
        return set()


def _stored(message_id: str) -> InboundMail | None:
    return db.session.scalar(select(InboundMail).where(InboundMail.message_id == message_id))


def _file(mail: InboundMail, message: EmailMessage, now: datetime) -> None:
    if _is_ours(message):
        mail.status = InboundStatus.LOOP
        return
    if _is_bounce(message):
        _record_bounce(mail, message, now)
        return
    mail.automatic = _is_automatic(message)
    inquiry, rule = _match(message, mail.sender_address)
    if inquiry is None:
        _queue_unsorted(mail, now)
        return
    if inquiry.anonymised_at is not None:  # its personal data is gone: take in no new
        _queue_unsorted(
            mail, now, f"Hör till {inquiry.reference}, vars personuppgifter är borttagna."
        )
        return
    mail.inquiry_id, mail.matched_by = inquiry.id, rule
    if mail.automatic:  # an out-of-office: recorded, but nobody is called to answer it
        mail.status = InboundStatus.AUTOMATIC
        db.session.add(mail)
        db.session.flush()
        record_event("automatic_reply", None, inquiry=inquiry, at=now, mail=mail.id)
        return
    try:
        with db.session.begin_nested():
            attach(mail, inquiry, now)
    except DomainError as exc:
        mail.inquiry_id, mail.matched_by = None, None
        _queue_unsorted(mail, now, f"{inquiry.reference}: {exc.message}")


def attach(mail: InboundMail, inquiry, now: datetime | None = None):
    """Put the mail on the inquiry: a message from the submitter, or an internal note when a
    staff member wrote it (say, answering a notice by e-mail)."""
    from crm.auth.queries import active_user_with_email
    from crm.inquiries.conflicts import may_act_on

    now = now or utcnow()
    if inquiry.anonymised_at is not None:
        raise DomainError(_("Personuppgifterna i förfrågan är borttagna."))
    staff = active_user_with_email(mail.sender_address)
    if staff is not None and not may_act_on(staff, inquiry):
        raise DomainError(_("Avsändaren får inte skriva i den här förfrågan."))
    mail.inquiry_id, mail.status = inquiry.id, InboundStatus.ATTACHED
    db.session.add(mail)
    db.session.flush()
    text = new_text(mail.text) if mail.text else (mail.error or "–")
    if staff is not None:
        note = add_note(text, staff, inquiry=inquiry)
        move_mail_files(mail, note=note)
        return note
    message = Message(
        inquiry_id=inquiry.id, direction=Direction.INBOUND, channel=MessageChannel.EMAIL,
        sender_name=mail.sender_name, sender_address=mail.sender_address, body=text,
        message_id=mail.message_id, inbound_mail_id=mail.id, created_at=now,
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    move_mail_files(mail, message=message)
    submitter_wrote(inquiry, message)
    return message


def _queue_unsorted(mail: InboundMail, now: datetime, reason: str | None = None) -> None:
    """Into the unsorted queue. A flood from one address (perhaps forged, to bury someone's
    real mail) is kept there too, but marked and listed after everyone else's."""
    mail.status, mail.error = InboundStatus.UNSORTED, reason
    limit = current_app.config["MAIL_UNSORTED_PER_SENDER_PER_DAY"]
    if not mail.sender_address:
        return
    recent = db.session.scalar(
        select(func.count()).where(
            InboundMail.id != mail.id,  # stored already, so its files have a row to hang on
            InboundMail.sender_address == mail.sender_address,
            InboundMail.status == InboundStatus.UNSORTED,
            InboundMail.received_at > now - timedelta(days=1),
        )
    )
    if recent >= limit:
        mail.flooded = True
        log.warning("inbound mail from %s: over the daily limit, listed last", mail.sender_address)


def _match(message: EmailMessage, sender: str | None):
    """The inquiry the mail belongs to and the rule that said so, or (None, None)."""
    by_reference = inquiry_by_reference
    threaded = " ".join(str(message.get(h, "")) for h in ("In-Reply-To", "References"))
    if (inquiry := by_reference(signed_reference(threaded))) is not None:
        return inquiry, "message_id"
    recipients = " ".join(
        str(message.get(h, "")) for h in ("To", "Cc", "Delivered-To", "X-Original-To")
    )
    if (inquiry := by_reference(plus_address_reference(recipients))) is not None:
        return inquiry, "plus_address"
    inquiry = by_reference(subject_reference(str(message.get("Subject", ""))))
    if inquiry is not None and _from_submitter(inquiry, sender) and _sender_verified(message):
        return inquiry, "subject_and_sender"
    return None, None


def _from_submitter(inquiry, sender: str | None) -> bool:
    """Only the submitter's own address: staff answer by replying to our (signed) mail, so a
    forged staff address with a typed reference never writes an internal note."""
    return bool(sender) and inquiry.email.lower() == sender.lower()


def _sender_verified(message: EmailMessage) -> bool:
    """With MAIL_AUTHSERV_ID set, the receiving server must have vouched for the sender
    (RFC 8601 Authentication-Results: dmarc, dkim or spf pass); a From line alone is easy to
    forge. Without it, the From line is taken as it is."""
    authserv_id = current_app.config["MAIL_AUTHSERV_ID"]
    if not authserv_id:
        return True
    for header in message.get_all("Authentication-Results", []):
        value = str(header).strip()
        if value.split(";", 1)[0].strip().lower() != authserv_id.lower():
            continue
        if any(f"{method}=pass" in value.lower() for method in ("dmarc", "dkim", "spf")):
            return True
    return False


# ---- mail that is not a person writing --------------------------------------------------


def _is_ours(message: EmailMessage) -> bool:
    """Our own mail come back (a loop through a forward or a misconfigured alias)."""
    own = str(message.get("Message-ID", "")).strip()
    made_by_us = own.startswith("<sam.") and own.endswith(f"@{sender_domain()}>")
    return made_by_us or bool(SIGNED_ID.search(own))


def _is_automatic(message: EmailMessage) -> bool:
    """RFC 3834 and the common conventions of auto-replies and list mail."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto not in ("", "no")
        or precedence in AUTOMATIC_PRECEDENCE
        or "X-Auto-Response-Suppress" in message
        or "X-Autoreply" in message
        or str(message.get("Return-Path", "")).strip() == "<>"
    )


def _is_bounce(message: EmailMessage) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and message.get_param("report-type", "").lower() == "delivery-status"
    )


def _record_bounce(mail: InboundMail, report: EmailMessage, now: datetime) -> None:
    """A delivery status notification: mark the outbox message it reports and show it on the
    inquiry. A report about mail that is not ours waits in the unsorted queue."""
    original_id, reason = _bounced_message_id(report), _bounce_reason(report)
    outbox = original_id and db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.message_id == original_id)
    )
    if not outbox:
        mail.status, mail.error = InboundStatus.UNSORTED, "Studsrapport om okänt meddelande."
        return
    mail.status, mail.inquiry_id = InboundStatus.BOUNCE, outbox.inquiry_id
    outbox.bounced_at = now
    outbox.last_error = f"Studsade: {reason}"[:2000] if reason else "Studsade"
    if outbox.inquiry_id is not None:
        record_event(
            "email_bounced", None, inquiry=outbox.inquiry_id, at=now,
            mail=outbox.kind, reason=reason[:300],
        )  # fmt: skip


def _bounced_message_id(report: EmailMessage) -> str | None:
    """The Message-ID of the returned message (RFC 3462: its headers or the whole message)."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            original = part.get_payload(0)
        elif kind == "text/rfc822-headers":
            original = parse(part.get_content().encode())
        else:
            continue
        return str(original.get("Message-ID", "")).strip() or None
    return None


def _bounce_reason(report: EmailMessage) -> str:
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            for block in part.get_payload():
                for header in ("Diagnostic-Code", "Status"):
                    if block.get(header):
                        return one_line(str(block.get(header)))[:300]
    return ""


# ---- storing ------------------------------------------------------------------------------


def _message_id(message: EmailMessage, raw: bytes) -> str:
    """The sender's Message-ID; one made from the content when it has none, so the same
    message fetched twice is still recognised."""
    value = one_line(str(message.get("Message-ID", "") or ""))
    return _normalised(value) if value else _hashed_id(raw)


def _normalised(message_id: str) -> str:
    """A Message-ID fit to store and to quote in our own In-Reply-To: printable ASCII, at most
    255 characters; another is replaced by its hash (still the same for the same input)."""
    if message_id.isascii() and message_id.isprintable() and len(message_id) <= 255:
        return message_id
    return _hashed_id(message_id.encode("utf-8", "replace"))


def _hashed_id(data: bytes) -> str:
    """A Message-ID of our own making, the same for the same bytes."""
    return f"<sha256.{hashlib.sha256(data).hexdigest()}@samverka.invalid>"


def _content_hash(raw: bytes) -> str:
    """The message's body, hashed: the same message delivered twice (with other Received
    lines on top) has the same body."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        _head, found, body = raw.partition(separator)
        if found:
            return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(raw).hexdigest()


def _address(value: str) -> str | None:
    """The sender's address, when it is one: no control characters, an @, no spaces."""
    address = strip_control_characters(parseaddr(value)[1]).strip().lower()
    if "@" not in address or " " in address or len(address) > 254:
        return None
    return address


def _new_row(
    message: EmailMessage, message_id: str, raw: bytes, content: str, now: datetime
) -> InboundMail:
    sender = str(message.get("From", ""))
    name = parseaddr(sender)[0]
    sent_at = None
    try:
        sent_at = parsedate_to_datetime(str(message.get("Date"))) if message.get("Date") else None
    except (TypeError, ValueError):
        sent_at = None
    return InboundMail(
        message_id=message_id, status=InboundStatus.UNSORTED,
        sender_address=_address(sender), sender_name=one_line(name)[:200] or None,
        subject=one_line(str(message.get("Subject", "")))[:300] or None,
        sent_at=sent_at if sent_at and sent_at.tzinfo else None,
        size=len(raw), raw=raw, content_sha256=content, received_at=now,
    )  # fmt: skip


def _store_unreadable(raw: bytes, error: str, now: datetime) -> Received:
    message_id = _hashed_id(raw)
    existing = _stored(message_id)
    if existing is not None:
        return Received(existing.id, existing.status, None, duplicate=True)
    keep = raw if len(raw) <= current_app.config["MAIL_MAX_BYTES"] else None
    return _saved(InboundMail(
        message_id=message_id, status=InboundStatus.UNSORTED, size=len(raw), raw=keep,
        error=one_line(error)[:2000], received_at=now,
    ))  # fmt: skip


def _saved(mail: InboundMail) -> Received:
    db.session.add(mail)
    db.session.flush()
    reference = _reference_of(mail.inquiry_id) if mail.inquiry_id else None
    return Received(mail.id, mail.status, reference)


def _reference_of(inquiry_id: int) -> str | None:
    return db.session.scalar(select(Inquiry.reference).where(Inquiry.id == inquiry_id))


def forget_discarded_mail(now: datetime | None = None) -> int:
    """Delete discarded and looped-back e-mail older than MAIL_DISCARDED_DAYS: nobody needs
    it, and it holds personal data. Returns how many were deleted."""
    from sqlalchemy import delete

    from crm.attachments.models import Attachment

    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["MAIL_DISCARDED_DAYS"])
    forgotten = select(InboundMail.id).where(
        InboundMail.status.in_((InboundStatus.DISCARDED, InboundStatus.LOOP)),
        InboundMail.received_at < cutoff,
    )
    delete_attachments(Attachment.inbound_mail_id.in_(forgotten))
    result = db.session.execute(delete(InboundMail).where(InboundMail.id.in_(forgotten)))
    return result.rowcount
