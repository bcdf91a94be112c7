"""Removing personal data while keeping the statistics."""

from __future__ import annotations

import json

from sqlalchemy import delete, or_, select, update

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.activity.services import record_event
from crm.attachments.models import Attachment
from crm.attachments.services import attachments_where, delete_attachments
from crm.audit.services import audit
from crm.conversation.models import InboundMail, Message
from crm.extensions import db
from crm.inquiries.statuses import GENUINE_OUTCOMES, Outcome
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.mail.services import subject_of
from crm.timeutil import utcnow

ANONYMISED = "–"
# Timeline events that carry free text, and the keys of theirs that are no personal data.
FREE_TEXT_EVENTS = {
    "contact_logged": ("channel",),
    "conflict_declared": (),
    "follow_up_added": ("due_on",),
}


def _blank_messages(condition) -> None:
    """Messages of a thread: who wrote and what; direction, channel and time stay."""
    db.session.execute(
        update(Message)
        .where(condition)
        .values(body=ANONYMISED, sender_name=None, sender_address=None)
    )


def _forget_mail(which) -> None:
    """Outgoing mail matching `which`: unsent mail is not sent at all, sent mail keeps only
    its date and kind (its address, subject, text and what it would be rendered from go)."""
    db.session.execute(
        delete(OutboxMessage).where(which, OutboxMessage.status != OutboxStatus.SENT)
    )
    db.session.execute(
        update(OutboxMessage)
        .where(which)
        .values(
            recipient=ANONYMISED,
            subject=ANONYMISED,
            body_text=ANONYMISED,
            body_html=None,
            render_data=None,
        )
    )


def _blank_inbound_mail(condition) -> None:
    """E-mails as received: only their status, size and dates stay."""
    db.session.execute(
        update(InboundMail)
        .where(condition)
        .values(raw=None, text=None, subject=None, sender_name=None, sender_address=None,
                error=None)
    )  # fmt: skip


def anonymise_inquiry(inquiry, actor, reason: str) -> None:
    """Blank the submitter's details and free text; category, dates and status stay."""
    _scrub_digests(inquiry)
    inquiry.contact_name = ANONYMISED
    inquiry.email = ANONYMISED
    inquiry.phone = None
    inquiry.subject = ANONYMISED
    inquiry.message = ANONYMISED
    inquiry.organisation_number = None
    inquiry.status_token_hash = None
    inquiry.status_link_seed = None
    inquiry.anonymised_at = utcnow()
    for note in db.session.scalars(select(Note).where(Note.inquiry_id == inquiry.id)):
        note.body = ANONYMISED
    db.session.execute(
        update(FollowUp).where(FollowUp.inquiry_id == inquiry.id).values(title=ANONYMISED)
    )
    delete_attachments(
        or_(
            Attachment.inquiry_id == inquiry.id,
            Attachment.inbound_mail_id.in_(
                select(InboundMail.id).where(InboundMail.inquiry_id == inquiry.id)
            ),
        )
    )
    _blank_messages(Message.inquiry_id == inquiry.id)
    _blank_inbound_mail(InboundMail.inquiry_id == inquiry.id)
    # A jäv declaration stays (who and when); its reason is free text like a note.
    for declaration in inquiry.conflicts:
        declaration.reason = ANONYMISED
    for event in db.session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind.in_(FREE_TEXT_EVENTS)
        )
    ):
        event.data = {
            key: value for key, value in event.data.items() if key in FREE_TEXT_EVENTS[event.kind]
        }
    _forget_mail(OutboxMessage.inquiry_id == inquiry.id)
    record_event("anonymised", actor, inquiry=inquiry, reason=reason)
    audit("inquiry_anonymised", actor, inquiry, reason=reason)
    db.session.flush()


def _scrub_digests(inquiry) -> None:
    """Reminder digests to staff cover many inquiries (no `inquiry_id`): the lines about this
    one lose its subject and its follow-ups' titles."""
    titles = db.session.scalars(select(FollowUp.title).where(FollowUp.inquiry_id == inquiry.id))
    texts = [inquiry.subject, inquiry.contact_name, inquiry.email, *titles]
    _scrub_columns(
        [OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html],
        texts,
        OutboxMessage.inquiry_id.is_(None) & OutboxMessage.body_text.contains(inquiry.reference),
    )


def _scrub_columns(columns, texts, condition=None) -> None:
    """Replace each of `texts` in these text columns, wherever it stands (any case)."""
    from sqlalchemy import or_

    texts = [text for text in texts if text and text != ANONYMISED]
    for column in columns:
        model = column.class_
        found = or_(*(_mentions(column, text) for text in texts))
        query = select(model).where(found)
        if condition is not None:
            query = query.where(condition)
        for row in db.session.scalars(query):
            value = getattr(row, column.key)
            for text in texts:
                value = _scrub(value, text)
            setattr(row, column.key, value)


def _scrub_json(columns, texts) -> None:
    """The same in JSON columns (timeline data, audit details): every string value."""
    texts = [text for text in texts if text and text != ANONYMISED]
    for column in columns:
        for row in db.session.scalars(select(column.class_).where(_json_mentions(column, texts))):
            value = getattr(row, column.key)
            scrubbed = _scrub_value(value, texts)
            if scrubbed != value:  # a candidate that does not name her stays untouched
                setattr(row, column.key, scrubbed)


def _json_mentions(column, texts):
    """Rows whose JSON may hold one of `texts`, in any case, for Python to check.

    JSON is stored with every letter beyond A–Z escaped as it was written ("ÅSA" as
    "\\u00c5SA", "åsa" as "\\u00e5sa"), so SQL cannot fold those. It can find the text's
    longest run of other characters, which JSON keeps as they are, in any case ("stlund" of
    "Åsa Östlund"); a text without such a run of three is looked for as `_mentions` does.
    """
    import re

    from sqlalchemy import Text, cast, func, or_

    as_text = cast(column, Text)
    found = []
    for text in texts:
        runs = re.findall(r"[ -!#-\[\]-~]{3,}", text)  # printable ASCII but " and \
        if runs:
            longest = max(runs, key=len).lower()
            found.append(func.lower(as_text).contains(longest, autoescape=True))
        else:
            found.append(_mentions(as_text, text))
    return or_(*found)


def _mentions(column, text: str):
    """The column holds `text` in any case ("ÅSA Öberg" too: every letter folded), or as JSON
    writes it ("\\u00c5sa"). As written and in capitals it is also looked for as it is: on a
    PostgreSQL database whose locale is not UTF-8 (C, POSIX), lower() folds A–Z only."""
    from sqlalchemy import or_

    from crm.core.sql import folded

    spellings = {text, text.upper(), json.dumps(text)[1:-1]}
    # autoescape: a backslash (JSON's \u00c5) is LIKE's escape character on PostgreSQL.
    return or_(
        folded(column).contains(text.lower(), autoescape=True),
        *(column.contains(spelling, autoescape=True) for spelling in spellings),
    )


def _holds_any(value, texts) -> bool:
    """Whether the JSON value holds one of `texts` anywhere, in any case."""
    written = json.dumps(value, ensure_ascii=False).casefold()
    return any(text.casefold() in written for text in texts)


def _scrub_value(value, texts):
    if isinstance(value, str):
        for text in texts:
            value = _scrub(value, text)
        return value
    if isinstance(value, dict):
        return {key: _scrub_value(item, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_value(item, texts) for item in value]
    return value


# ---- retention ------------------------------------------------------------------------


def retention_months(config) -> dict[Outcome, int]:
    """Months personal data is kept after an inquiry ends, per outcome (spam: none)."""
    periods = config.get("RETENTION_MONTHS_BY_OUTCOME") or {}
    return {
        outcome: int(periods.get(outcome.value, config["RETENTION_MONTHS"]))
        for outcome in GENUINE_OUTCOMES
    }


def months_before(moment, months: int):
    """The same moment `months` calendar months earlier (clamped to the month's last day)."""
    import calendar

    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def expired_inquiries(config, now=None) -> list:
    """Ended inquiries whose retention period is over and that still hold personal data."""
    from sqlalchemy import and_, or_

    from crm.inquiries.models import Inquiry

    now = now or utcnow()
    # Every ended inquiry follows its outcome's period, closed or not; one that ended before
    # outcomes were kept and whose timeline cannot tell follows the general period. Open
    # inquiries have no `closed_at`, so no period applies to them.
    conditions = [
        and_(Inquiry.outcome == outcome, Inquiry.closed_at < months_before(now, months))
        for outcome, months in retention_months(config).items()
    ]
    conditions.append(
        and_(
            Inquiry.outcome.is_(None),
            Inquiry.closed_at < months_before(now, config["RETENTION_MONTHS"]),
        )
    )
    conditions.append(Inquiry.outcome == Outcome.SPAM)  # spam keeps nothing, whatever its date
    return list(
        db.session.scalars(
            select(Inquiry)
            .where(Inquiry.anonymised_at.is_(None), or_(*conditions))
            .order_by(Inquiry.closed_at, Inquiry.id)
        )
    )


def purge_expired(config, now=None, dry_run: bool = False) -> list[str]:
    """Anonymise every expired inquiry (or only list them); returns their references."""
    inquiries = expired_inquiries(config, now)
    references = [inquiry.reference for inquiry in inquiries]
    if not dry_run:
        for inquiry in inquiries:
            anonymise_inquiry(inquiry, None, reason="retention")
    audit("retention_purge", None, None, actor_label="flask crm purge-expired",
          dry_run=dry_run, count=len(references))  # fmt: skip
    db.session.flush()
    return references


# ---- the rights of one person ----------------------------------------------------------


def _person_rows(email: str) -> dict:
    from sqlalchemy import func

    from crm.auth.models import User
    from crm.inquiries.models import Inquiry
    from crm.partners.models import Contact

    wanted = email.strip().lower()
    return {
        "inquiries": list(db.session.scalars(
            select(Inquiry).where(func.lower(Inquiry.email) == wanted).order_by(Inquiry.id))),
        "contacts": list(db.session.scalars(
            select(Contact).where(func.lower(Contact.email) == wanted).order_by(Contact.id))),
        "messages": list(db.session.scalars(
            select(OutboxMessage).where(func.lower(OutboxMessage.recipient) == wanted)
            .order_by(OutboxMessage.id))),
        "users": list(db.session.scalars(select(User).where(func.lower(User.email) == wanted))),
        "received": list(db.session.scalars(
            select(InboundMail).where(func.lower(InboundMail.sender_address) == wanted)
            .order_by(InboundMail.id))),
    }  # fmt: skip


def _their_files(email: str):
    """Files on the person's inquiries, on messages they wrote elsewhere, and on e-mail they
    sent (unsorted ones too)."""
    from sqlalchemy import func

    from crm.inquiries.models import Inquiry

    wanted = email.strip().lower()
    return or_(
        Attachment.inquiry_id.in_(select(Inquiry.id).where(func.lower(Inquiry.email) == wanted)),
        Attachment.message_id.in_(
            select(Message.id).where(func.lower(Message.sender_address) == wanted)
        ),
        Attachment.inbound_mail_id.in_(
            select(InboundMail.id).where(func.lower(InboundMail.sender_address) == wanted)
        ),
    )


def _export_files(email: str, files_dir) -> list[dict]:
    """The person's files listed, and copied into `files_dir` when one is given."""
    import shutil
    from pathlib import Path

    from crm.attachments import storage
    from crm.inquiries.models import Inquiry

    listed = []
    for attachment in attachments_where(_their_files(email)):
        # Named by id and type: the person's own name for it is in the JSON, and a long
        # non-ASCII name may not fit a file system's 255 bytes.
        name = f"{attachment.id}.{attachment.extension}"
        source = storage.path_of(attachment.storage_key)
        # A file the scanner stopped or has not seen is named, never handed out.
        copied = files_dir is not None and attachment.servable and source.is_file()
        if copied:
            Path(files_dir).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, Path(files_dir) / name)
        inquiry = db.session.get(Inquiry, attachment.inquiry_id) if attachment.inquiry_id else None
        listed.append({
            "inquiry": inquiry.reference if inquiry else None,
            "name": attachment.filename, "type": attachment.content_type,
            "size": attachment.size, "at": attachment.created_at.isoformat(),
            "internal": attachment.note_id is not None,
            "scan": attachment.scan_status.value,
            "file": name if copied else None,
        })  # fmt: skip
    return listed


def gdpr_export(email: str, files_dir=None, actor=None) -> dict:
    """Everything stored about the person with this e-mail address, as plain data (art. 15,
    20); their files are copied into `files_dir` when one is given."""
    from crm.regions import region_name

    rows = _person_rows(email)
    data = {
        "email": email.strip().lower(),
        "exported_at": utcnow().isoformat(),
        "inquiries": [
            {
                "reference": i.reference, "submitted_at": i.created_at.isoformat(),
                "organisation": i.organisation_name, "organisation_type": i.organisation_type.value,
                "organisation_number": i.organisation_number, "contact_name": i.contact_name,
                "email": i.email, "phone": i.phone, "category": i.category.value,
                "regions": [region_name(code) for code in i.regions], "subject": i.subject,
                "message": i.message, "status": i.status.value,
                "outcome": i.outcome.value if i.outcome else None,
                "consent_text_version": i.consent_text_version,
                "consent_at": i.consent_at.isoformat() if i.consent_at else None,
                "messages": [
                    {"at": m.created_at.isoformat(), "direction": m.direction.value,
                     "channel": m.channel.value, "text": m.body}
                    for m in db.session.scalars(
                        select(Message).where(Message.inquiry_id == i.id)
                        .order_by(Message.created_at, Message.id)
                    )
                ],
                "internal_notes": [
                    {"at": n.created_at.isoformat(), "text": n.body}
                    for n in db.session.scalars(select(Note).where(Note.inquiry_id == i.id))
                ],
                "logged_contacts": [
                    {"at": e.created_at.isoformat(), "channel": e.data.get("channel"),
                     "text": e.data.get("summary")}
                    for e in db.session.scalars(
                        select(TimelineEvent).where(
                            TimelineEvent.inquiry_id == i.id,
                            TimelineEvent.kind == "contact_logged",
                        )
                    )
                ],
            }
            for i in rows["inquiries"]
        ],
        "contact_records": [
            {"organisation": c.organisation.name, "name": c.name, "title": c.title,
             "email": c.email, "phone": c.phone}
            for c in rows["contacts"]
        ],
        "emails_received": [
            {"at": m.received_at.isoformat(), "subject": m.subject, "status": m.status.value,
             "text": m.text}
            for m in rows["received"]
        ],
        "emails_sent": [
            {"at": m.created_at.isoformat(), "subject": subject_of(m), "status": m.status.value}
            for m in rows["messages"]
        ],
        "staff_accounts": [
            {"name": u.name, "email": u.email, "role": u.role.value} for u in rows["users"]
        ],
        "files": _export_files(email, files_dir),
    }  # fmt: skip
    audit("gdpr_export", actor, None, actor_label=None if actor else "flask crm gdpr-export",
          inquiries=len(rows["inquiries"]), contacts=len(rows["contacts"]))  # fmt: skip
    return data


def gdpr_erase(email: str, dry_run: bool = False, actor=None) -> dict:
    """Erase the person's data (art. 17): anonymise inquiries, delete contacts, scrub mail,
    and remove their address and full name from free text anywhere (notes, follow-ups, the
    timeline, mail to staff, other inquiries, the audit log)."""
    from sqlalchemy import func

    wanted = email.strip().lower()
    rows = _person_rows(wanted)
    names = _full_names(rows)
    summary = {
        "inquiries": [i.reference for i in rows["inquiries"]],
        "contacts": len(rows["contacts"]),
        "messages": len(rows["messages"]),
        "staff_accounts": len(rows["users"]),
        "emails_received": len(rows["received"]),
        "files": [a.filename for a in attachments_where(_their_files(wanted))],
    }
    if not dry_run:
        delete_attachments(_their_files(wanted))  # before the addresses that find them go
        for inquiry in rows["inquiries"]:
            anonymise_inquiry(inquiry, actor, reason="erasure_request")
        for contact in rows["contacts"]:
            db.session.delete(contact)
        # Mail not yet sent to the person is not sent at all (left, it would fail at an
        # anonymised address and wait on the admin's page); what was sent keeps only its date.
        _forget_mail(func.lower(OutboxMessage.recipient) == wanted)
        _blank_inbound_mail(func.lower(InboundMail.sender_address) == wanted)
        # What they wrote on other people's threads (a colleague's inquiry, say).
        _blank_messages(func.lower(Message.sender_address) == wanted)
        # Their address and full name may also stand in free text anyone wrote.
        _scrub_everywhere([wanted, *names])
        _drop_staged_imports([wanted, *names])
    audit("gdpr_erase", actor, None, actor_label=None if actor else "flask crm gdpr-erase",
          dry_run=dry_run, inquiries=len(summary["inquiries"]),
          contacts=summary["contacts"])  # fmt: skip
    db.session.flush()
    return summary


def _full_names(rows) -> list[str]:
    """The person's names as written on their inquiries and contact records. Only names of two
    words or more: scrubbing a lone first name would blank every namesake's."""
    names = {i.contact_name for i in rows["inquiries"]} | {c.name for c in rows["contacts"]}
    return sorted(name for name in names if name and len(name.split()) >= 2)


def _scrub_everywhere(texts: list[str]) -> None:
    from sqlalchemy import func

    from crm.audit.models import AuditLog
    from crm.auth.models import User
    from crm.inquiries.models import ConflictDeclaration, Inquiry
    from crm.partners.models import Contact, Organisation

    _scrub_columns(
        [
            Inquiry.subject, Inquiry.message, Note.body, FollowUp.title, Message.body,
            InboundMail.text, InboundMail.subject, OutboxMessage.subject,
            OutboxMessage.body_text, OutboxMessage.body_html, Contact.title,
            Organisation.description, ConflictDeclaration.reason,
        ],
        texts,
    )  # fmt: skip
    _scrub_json([TimelineEvent.data, AuditLog.details], texts)
    # Who did what stays readable for the staff's own actions; an outsider's address (typed
    # at the log-in, say) goes.
    staff = set(db.session.scalars(select(func.lower(User.email))))
    _scrub_columns([AuditLog.actor_label], [text for text in texts if text.lower() not in staff])


def _drop_staged_imports(texts: list[str]) -> None:
    """Register files waiting for their uploader's confirmation (kept a day) that name the
    person go whole: scrubbed, they would import a contact called "[borttaget]"."""
    from sqlalchemy import or_

    from crm.partners.models import OrganisationImport

    texts = [text for text in texts if text]
    if not texts:
        return
    columns = (OrganisationImport.rows, OrganisationImport.verdicts)
    candidates = select(OrganisationImport).where(or_(*(_json_mentions(c, texts) for c in columns)))
    naming = [
        staged.id
        for staged in db.session.scalars(candidates)
        if any(_holds_any(getattr(staged, column.key), texts) for column in columns)
    ]
    if naming:
        db.session.execute(delete(OrganisationImport).where(OrganisationImport.id.in_(naming)))


def _scrub(text: str, term: str) -> str:
    """`term` replaced where it stands whole: not inside a longer address or word, so erasing
    a@gmail.com leaves lisa@gmail.com and "Anna Berg" leaves "Anna Bergström"."""
    import re

    pattern = rf"(?<![\w.+-]){re.escape(term)}(?![\w-]|\.\w)"
    return re.sub(pattern, ANONYMISED, text, flags=re.IGNORECASE)
