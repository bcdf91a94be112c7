"""The conversation's verbs: staff reply to the submitter, the submitter answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from crm.activity.services import record_event
from crm.attachments.services import attach_files, move_mail_files, refuse_infected
from crm.audit.services import audit
from crm.conversation.models import Direction, InboundStatus, Message, MessageChannel
from crm.conversation.queries import thread_message_ids
from crm.core.urls import external_url
from crm.errors import DomainError
from crm.extensions import db
from crm.inquiries.conflicts import require_may_act
from crm.inquiries.intake import status_link
from crm.inquiries.queries import inquiry_by_reference
from crm.inquiries.response import stamp_first_response
from crm.inquiries.statuses import FINAL_STATUSES
from crm.mail.services import queue_mail, render_mail
from crm.mail.threading import references_header
from crm.timeutil import utcnow

# The line above which a reply by e-mail is new text; below it is the quoted thread.
REPLY_MARKER = "Skriv ditt svar ovanför den här raden"
BODY_MAX = 10_000


def _checked_body(body: str, empty_message: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError(empty_message, field="body")
    if len(body) > BODY_MAX:
        raise DomainError(_("Högst %(max)d tecken.", max=BODY_MAX), field="body")
    return body


@dataclass(frozen=True)
class ReplyPreview:
    """A reply as it will be sent: to whom, from whom, the subject and the e-mail's text."""

    recipient: str
    sender_name: str
    subject: str
    text: str
    body: str


def _checked_reply(inquiry, body: str, actor) -> str:
    require_may_act(inquiry, actor)
    body = _checked_body(body, _("Skriv ett svar."))
    if inquiry.anonymised_at is not None:
        raise DomainError(_("Personuppgifterna i förfrågan är borttagna."))
    return body


def _reply_mail(inquiry, body: str, actor) -> dict:
    """What the reply's e-mail template is given (the preview shows the same)."""
    return {"body": body, "author": actor, "marker": REPLY_MARKER,
            "status_link": status_link(inquiry)}  # fmt: skip


def preview_reply(inquiry, body: str, actor) -> ReplyPreview:
    """The reply as `send_reply` would send it, checked by the same rules; nothing is
    written."""
    body = _checked_reply(inquiry, body, actor)
    subject, text, _html = render_mail(
        "public_reply", inquiry=inquiry, **_reply_mail(inquiry, body, actor)
    )
    return ReplyPreview(inquiry.email, actor.name, subject, text, body)


def send_reply(inquiry, body: str, actor, now: datetime | None = None, files=()) -> Message:
    """Staff answer the submitter: on the thread and status page, and by e-mail that threads
    with the earlier mail and comes back to the intake when answered; `files` (prepared
    uploads) go with it, in the e-mail as attachments."""
    body = _checked_reply(inquiry, body, actor)
    refuse_infected(files)  # the partner would get the mail without it
    now = now or utcnow()
    earlier = thread_message_ids(inquiry)
    mail = queue_mail(
        "public_reply", inquiry.email, "public_reply", inquiry=inquiry,
        from_name=actor.name,
        in_reply_to=earlier[-1] if earlier else None,
        references=references_header(earlier),
        **_reply_mail(inquiry, body, actor),
    )  # fmt: skip
    message = Message(
        inquiry_id=inquiry.id, direction=Direction.OUTBOUND, channel=MessageChannel.SAMVERKA,
        author_id=actor.id, author=actor, body=body, message_id=mail.message_id, created_at=now,
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    attach_files(files, message=message, uploaded_by=actor)
    record_event("public_reply", actor, inquiry=inquiry, at=now)  # the text is the message's
    audit("public_reply_sent", actor, inquiry)
    stamp_first_response(inquiry, now)
    inquiry.submitter_replied_at = None
    db.session.flush()
    return message


def may_answer_on_status_page(inquiry) -> bool:
    """The submitter may write on the status page while the inquiry is open; an ended one
    takes a new inquiry (an e-mail still joins its thread, so nothing is lost)."""
    return inquiry.status not in FINAL_STATUSES and inquiry.anonymised_at is None


def answer_on_status_page(inquiry, body: str, now: datetime | None = None, files=()) -> Message:
    """The submitter writes on their status page, with files if they like."""
    if not may_answer_on_status_page(inquiry):
        raise DomainError(
            _("Förfrågan är avslutad. Skicka en ny förfrågan om du vill ta upp något nytt.")
        )
    body = _checked_body(body, _("Skriv ditt svar."))
    message = Message(
        inquiry_id=inquiry.id, direction=Direction.INBOUND, channel=MessageChannel.STATUS_PAGE,
        sender_name=inquiry.contact_name, sender_address=inquiry.email, body=body,
        created_at=now or utcnow(),
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    attach_files(files, message=message)
    submitter_wrote(inquiry, message)
    db.session.flush()
    return message


def submitter_wrote(inquiry, message: Message) -> None:
    """What follows any message from the submitter: on the timeline, back in view for staff
    (the inbox group "answers from submitters"), and one mail to the assignee."""
    if inquiry.submitter_replied_at is None:
        inquiry.submitter_replied_at = message.created_at
    record_event(
        "submitter_replied", None, inquiry=inquiry, at=message.created_at,
        channel=message.channel,
    )  # fmt: skip
    if inquiry.assignee is not None:
        queue_mail(
            "submitter_reply_notice", inquiry.assignee.email, "submitter_reply_notice",
            inquiry=inquiry, message=message,
            link=external_url("inquiries.detail", reference=inquiry.reference),
        )  # fmt: skip


def acknowledge_answer(inquiry, actor) -> None:
    """Staff have read the submitter's answer and it needs no reply: out of the inbox group."""
    require_may_act(inquiry, actor)
    if inquiry.submitter_replied_at is None:
        return
    inquiry.submitter_replied_at = None
    record_event("submitter_reply_acknowledged", actor, inquiry=inquiry)
    db.session.flush()


# ---- the unsorted queue ------------------------------------------------------------------


def attach_unsorted(mail, reference: str, actor):
    """A person puts an unsorted e-mail on an inquiry: on its thread, like a matched reply."""
    from crm.conversation.inbound import attach

    _require_unsorted(mail)
    inquiry = inquiry_by_reference(reference.strip())
    if inquiry is None:
        raise DomainError(_("Det finns ingen förfrågan %(ref)s.", ref=reference), field="reference")
    require_may_act(inquiry, actor)
    mail.matched_by = "by_hand"
    attach(mail, inquiry)
    audit("inbound_mail_attached", actor, inquiry, mail=mail.id)
    db.session.flush()
    return inquiry


def file_as_new_inquiry(mail, inquiry, actor) -> None:
    """The e-mail became a new inquiry (its text is the inquiry's message)."""
    _require_unsorted(mail)
    mail.inquiry_id, mail.status, mail.matched_by = inquiry.id, InboundStatus.ATTACHED, "new"
    move_mail_files(mail, inquiry=inquiry)  # the e-mail's files are the inquiry's now
    audit("inbound_mail_made_inquiry", actor, inquiry, mail=mail.id)
    db.session.flush()


def discard_unsorted(mail, actor) -> None:
    _require_unsorted(mail)
    mail.status = InboundStatus.DISCARDED
    audit("inbound_mail_discarded", actor, None, mail=mail.id)
    db.session.flush()


def _require_unsorted(mail) -> None:
    if mail.status is not InboundStatus.UNSORTED:
        raise DomainError(_("Meddelandet är redan sorterat."))


def receive_uploaded_eml(raw: bytes, actor):
    """Staff hand in a saved e-mail: filed like any received mail (a reply joins its thread,
    once however often it is uploaded); a file that is no e-mail is refused."""
    from crm.conversation.inbound import receive
    from crm.conversation.mailtext import parse

    if len(raw) > current_app.config["MAIL_MAX_BYTES"]:
        raise DomainError(
            _(
                "Filen är för stor (högst %(mb)d MB).",
                mb=current_app.config["MAIL_MAX_BYTES"] // 2**20,
            ),
            field="eml",
        )
    headers = parse(raw[:65536])
    if not (headers.get("From") or headers.get("Subject")):
        raise DomainError(_("Filen är inget e-postmeddelande (.eml)."), field="eml")
    received = receive(raw)
    if received.reference is not None:
        require_may_act(inquiry_by_reference(received.reference), actor)  # jäv: rolled back
    audit("eml_uploaded", actor, None, mail=received.mail_id, duplicate=received.duplicate)
    return received
