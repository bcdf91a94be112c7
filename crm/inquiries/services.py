"""The rules for inquiries. Services change state and flush; the caller commits."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.activity.services import record_event
from crm.audit.services import audit
from crm.auth.models import User
from crm.auth.permissions import Permission, Role
from crm.choices import Channel, Priority, Recurrence, Relationship
from crm.core.urls import external_url
from crm.errors import DomainError, InvalidTransition, NotPermitted, StaleObject
from crm.extensions import db
from crm.inquiries.intake import PUBLIC_MAIL_DOMAINS
from crm.inquiries.models import Inquiry
from crm.inquiries.statuses import FINAL_STATUSES, TRANSITIONS, WITHDRAWABLE_STATUSES, Status
from crm.mail.services import queue_mail
from crm.routing.services import role_holder
from crm.timeutil import utcnow

REOPEN_FROM = frozenset({Status.CLOSED, Status.DECLINED})
NOTE_EDIT_WINDOW = timedelta(minutes=15)


def change_status(inquiry: Inquiry, new: Status, actor, **event_data) -> None:
    """Move an inquiry along the workflow, or raise InvalidTransition."""
    old = inquiry.status
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(old, new)
    now = utcnow()
    if old is Status.NEW and actor is not None and inquiry.first_response_at is None:
        inquiry.first_response_at = now
    if new in FINAL_STATUSES:
        inquiry.closed_at = inquiry.closed_at or now
    else:
        inquiry.closed_at = None
    kind = "reopened" if old in REOPEN_FROM and new is Status.TRIAGED else "status_changed"
    inquiry.status = new
    record_event(kind, actor, inquiry=inquiry, old=old, new=new, **event_data)
    audit("inquiry_status_changed", actor, inquiry, old=old.value, new=new.value, **event_data)
    db.session.flush()
    if new is Status.SPAM:
        from crm.privacy.services import anonymise_inquiry

        anonymise_inquiry(inquiry, actor, reason="spam")


def withdraw_by_submitter(inquiry: Inquiry) -> None:
    """The submitter withdraws through their status link (only while the inquiry is open)."""
    if inquiry.status not in WITHDRAWABLE_STATUSES:
        raise InvalidTransition(inquiry.status, Status.WITHDRAWN)
    change_status(inquiry, Status.WITHDRAWN, None, by="submitter")


def check_version(inquiry: Inquiry, seen_version: int | None) -> None:
    """Refuse a save based on an older copy of the inquiry than the one stored now."""
    if seen_version is None or int(seen_version) != inquiry.version:
        raise StaleObject(stale_message())


def stale_message() -> str:
    return _(
        "Någon annan har ändrat förfrågan medan du hade den öppen. Ladda om sidan och försök igen."
    )


def set_priority(inquiry: Inquiry, priority: Priority, actor) -> None:
    """Change how urgent the inquiry is."""
    if inquiry.priority == priority:
        return
    record_event("priority_changed", actor, inquiry=inquiry, old=inquiry.priority, new=priority)
    audit("inquiry_priority_changed", actor, inquiry, new=priority.value)
    inquiry.priority = priority
    _first_response(inquiry, actor)
    db.session.flush()


def assign(inquiry: Inquiry, assignee: User, actor, reason: str | None = None) -> None:
    """Make `assignee` responsible and tell them by e-mail."""
    if not assignee.active or not assignee.can(Permission.INQUIRY_EDIT):
        raise DomainError(
            _("Förfrågan kan bara tilldelas generalsekreteraren eller ordföranden."),
            field="assignee",
        )
    if inquiry.assignee_id == assignee.id:
        return
    old = inquiry.assignee
    inquiry.assignee_id = assignee.id
    inquiry.assignee = assignee
    record_event(
        "assigned", actor, inquiry=inquiry,
        old=old.name if old else None, new=assignee.name, assignee_id=assignee.id, reason=reason,
    )  # fmt: skip
    audit("inquiry_assigned", actor, inquiry, assignee_id=assignee.id)
    queue_mail(
        "assignee_notice", assignee.email, "assignee_notice",
        inquiry=inquiry, assignee=assignee,
        link=external_url("inquiries.detail", reference=inquiry.reference),
    )  # fmt: skip
    db.session.flush()


def declare_conflict(inquiry: Inquiry, actor, reason: str) -> None:
    """The chair is jävig: hand the inquiry back to the secretary general, with the reason."""
    if actor.role != Role.CHAIR:
        raise NotPermitted(_("Bara ordföranden kan anmäla jäv."))
    if not reason.strip():
        raise DomainError(_("Skriv varför du är jävig."), field="reason")
    secretary = role_holder(Role.SECRETARY_GENERAL)
    if secretary is None:
        raise DomainError(_("Det finns ingen aktiv generalsekreterare att lämna över till."))
    record_event("conflict_declared", actor, inquiry=inquiry, reason=reason.strip())
    audit("conflict_declared", actor, inquiry)
    assign(inquiry, secretary, actor, reason="conflict_of_interest")


def add_note(inquiry: Inquiry, body: str, actor) -> Note:
    """An internal note; the submitter never sees it."""
    if not body.strip():
        raise DomainError(_("Skriv en anteckning."), field="body")
    note = Note(
        inquiry_id=inquiry.id,
        organisation_id=inquiry.organisation_id,
        author_id=actor.id,
        body=body.strip(),
    )
    db.session.add(note)
    db.session.flush()
    record_event("note_added", actor, inquiry=inquiry, note_id=note.id)
    audit("note_added", actor, note, inquiry_id=inquiry.id)
    _first_response(inquiry, actor)
    return note


def note_still_editable(note: Note, now=None) -> bool:
    return (now or utcnow()) - note.created_at <= NOTE_EDIT_WINDOW


def edit_note(note: Note, body: str, actor, now=None) -> None:
    """The author may correct a note within 15 minutes of writing it."""
    now = now or utcnow()
    if note.author_id != actor.id:
        raise NotPermitted(_("Bara den som skrev anteckningen kan ändra den."))
    if not note_still_editable(note, now):
        raise NotPermitted(_("Anteckningar kan bara ändras i 15 minuter."))
    if not body.strip():
        raise DomainError(_("Skriv en anteckning."), field="body")
    note.body = body.strip()
    note.updated_at = now
    audit("note_edited", actor, note)
    db.session.flush()


def add_follow_up(
    title: str, due_on: date, owner: User, actor, *, inquiry=None, organisation=None,
    recurrence: Recurrence = Recurrence.NONE, today: date | None = None,
) -> FollowUp:  # fmt: skip
    """Something to do by a date; not in the past."""
    if due_on < (today or date.today()):
        raise DomainError(_("Datumet har redan passerat."), field="due_on")
    follow_up = FollowUp(
        title=title.strip(), due_on=due_on, owner_id=owner.id, created_by_id=actor.id,
        inquiry_id=inquiry.id if inquiry else None,
        organisation_id=_organisation_id_for(organisation, inquiry),
        recurrence=recurrence,
    )  # fmt: skip
    db.session.add(follow_up)
    db.session.flush()
    if inquiry is not None:
        record_event(
            "follow_up_added",
            actor,
            inquiry=inquiry,
            title=follow_up.title,
            due_on=due_on.isoformat(),
        )
    audit("follow_up_added", actor, follow_up)
    return follow_up


def _organisation_id_for(organisation, inquiry) -> int | None:
    """A follow-up on an inquiry also shows on its organisation's record."""
    if organisation is not None:
        return organisation.id
    return inquiry.organisation_id if inquiry is not None else None


def complete_follow_up(follow_up: FollowUp, actor) -> FollowUp | None:
    """Mark it done; a yearly one comes back a year later. Returns the next one, if any."""
    if follow_up.completed_at is not None:
        return None
    follow_up.completed_at = utcnow()
    follow_up.completed_by_id = actor.id
    audit("follow_up_completed", actor, follow_up)
    if follow_up.inquiry_id is not None:
        db.session.add(
            TimelineEvent(
                inquiry_id=follow_up.inquiry_id,
                actor_id=actor.id,
                kind="follow_up_done",
                data={"title": follow_up.title},
            )
        )
    following = None
    if follow_up.recurrence == Recurrence.YEARLY:
        following = FollowUp(
            title=follow_up.title, due_on=next_year(follow_up.due_on), owner_id=follow_up.owner_id,
            inquiry_id=follow_up.inquiry_id, organisation_id=follow_up.organisation_id,
            recurrence=Recurrence.YEARLY, created_by_id=actor.id,
        )  # fmt: skip
        db.session.add(following)
    db.session.flush()
    return following


def reschedule_follow_up(
    follow_up: FollowUp, due_on: date, actor, today: date | None = None
) -> None:
    if due_on < (today or date.today()):
        raise DomainError(_("Datumet har redan passerat."), field="due_on")
    follow_up.due_on = due_on
    audit("follow_up_rescheduled", actor, follow_up, due_on=due_on.isoformat())
    db.session.flush()


def next_year(day: date) -> date:
    """The same date a year later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def publish_reply(inquiry: Inquiry, body: str, actor) -> None:
    """A reply the submitter sees on the status page and receives by e-mail."""
    body = body.strip()
    if not body:
        raise DomainError(_("Skriv ett svar."), field="body")
    record_event("public_reply", actor, inquiry=inquiry, body=body)
    audit("public_reply_sent", actor, inquiry)
    _first_response(inquiry, actor)
    if inquiry.anonymised_at is None:
        queue_mail("public_reply", inquiry.email, "public_reply", inquiry=inquiry, body=body)
    db.session.flush()


def _first_response(inquiry: Inquiry, actor) -> None:
    """Any staff action on a new inquiry counts as the first response.

    Stamped with a guarded UPDATE that leaves the version alone: it is not an edit anyone
    could overwrite, so two people writing at once must not turn it into a conflict.
    """
    if actor is None or inquiry.first_response_at is not None:
        return
    now = utcnow()
    db.session.execute(
        update(Inquiry)
        .where(Inquiry.id == inquiry.id, Inquiry.first_response_at.is_(None))
        .values(first_response_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(inquiry, "first_response_at", now)


def link_organisation(inquiry: Inquiry, organisation, actor) -> None:
    """Link the inquiry to a register entry, or unlink it with None."""
    old = inquiry.organisation
    if old is organisation:
        return
    inquiry.organisation_id = organisation.id if organisation else None
    inquiry.organisation = organisation
    if organisation is not None:
        record_event(
            "organisation_linked",
            actor,
            inquiry=inquiry,
            organisation=organisation,
            name=organisation.name,
            by="staff",
        )
    else:
        record_event(
            "organisation_unlinked", actor, inquiry=inquiry, name=old.name if old else None
        )
    audit(
        "inquiry_organisation_changed", actor, inquiry,
        organisation_id=organisation.id if organisation else None,
    )  # fmt: skip
    db.session.flush()


def create_organisation_from(inquiry: Inquiry, actor):
    """Add the inquiry's organisation to the register (refusing a duplicate) and link it."""
    from crm.partners.models import Organisation
    from crm.partners.services import normalise_name

    key = normalise_name(inquiry.organisation_name)
    existing = db.session.scalar(select(Organisation).where(Organisation.name_key == key))
    if existing is not None:
        raise DomainError(_("%(name)s finns redan i registret. Koppla till den i stället.",
                            name=existing.name), field="organisation_name")  # fmt: skip
    domain = inquiry.email.rpartition("@")[2].lower()
    organisation = Organisation(
        name=inquiry.organisation_name, name_key=key, type=inquiry.organisation_type,
        relationship=Relationship.PROSPECT, org_number=inquiry.organisation_number,
        email_domain=None if domain in PUBLIC_MAIL_DOMAINS else domain,
    )  # fmt: skip
    db.session.add(organisation)
    db.session.flush()
    record_event("created", actor, organisation=organisation, source=inquiry.reference)
    audit("organisation_created", actor, organisation)
    link_organisation(inquiry, organisation, actor)
    return organisation


def log_inquiry(data, channel: Channel, actor, send_receipt: bool = False):
    """Staff record an inquiry that came by e-mail, phone or meeting; routed like the form."""
    from crm.inquiries.intake import submit_inquiry

    inquiry, token = submit_inquiry(data, channel=channel, actor=actor, send_receipt=send_receipt)
    audit("inquiry_logged", actor, inquiry, channel=channel.value)
    return inquiry, token
