"""The rules for inquiries. Services change state and flush; the caller commits."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from crm.activity.services import hand_over_follow_ups, record_event
from crm.audit.services import audit
from crm.auth.models import User
from crm.auth.permissions import Permission
from crm.choices import Channel, Priority
from crm.core.urls import external_url
from crm.errors import DomainError, InvalidTransition, NotPermitted, StaleObject
from crm.extensions import db
from crm.inquiries.conflicts import may_be_assigned, require_may_act
from crm.inquiries.models import ConflictDeclaration, Inquiry, counterpart_key_of
from crm.inquiries.response import response_deadline, run_response_clock, stamp_first_response
from crm.inquiries.statuses import (
    FINAL_STATUSES,
    OUTCOME_OF,
    RESPONDING_STATUSES,
    TRANSITIONS,
    WITHDRAWABLE_STATUSES,
    Status,
)
from crm.mail.services import queue_mail
from crm.partners.queries import find_organisation_named
from crm.partners.services import create_organisation_from_inquiry
from crm.routing.services import choose_assignee
from crm.timeutil import utcnow

REOPEN_FROM = frozenset({Status.CLOSED, Status.DECLINED})


def change_status(inquiry: Inquiry, new: Status, actor, now=None, **event_data) -> None:
    """Move an inquiry along the workflow, or raise InvalidTransition."""
    require_may_act(inquiry, actor)
    old = inquiry.status
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(old, new)
    now = now or utcnow()
    if new in RESPONDING_STATUSES and actor is not None:
        stamp_first_response(inquiry, now)
    if new in FINAL_STATUSES:
        inquiry.closed_at = inquiry.closed_at or now
    else:
        inquiry.closed_at = None
    if new in OUTCOME_OF:
        inquiry.outcome = OUTCOME_OF[new]
    elif new not in FINAL_STATUSES:
        inquiry.outcome = None  # reopened: the earlier outcome no longer stands
    kind = "reopened" if old in REOPEN_FROM and new is Status.TRIAGED else "status_changed"
    run_response_clock(inquiry, old, new, now)
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
    require_may_act(inquiry, actor)
    if inquiry.priority == priority:
        return
    record_event("priority_changed", actor, inquiry=inquiry, old=inquiry.priority, new=priority)
    audit("inquiry_priority_changed", actor, inquiry, new=priority.value)
    inquiry.priority = priority
    if inquiry.first_response_at is None:
        inquiry.first_response_due_at = response_deadline(inquiry)
    db.session.flush()


def assign(inquiry: Inquiry, assignee: User, actor, reason: str | None = None) -> None:
    """Make `assignee` responsible and tell them by e-mail."""
    require_may_act(inquiry, actor)
    if actor is not None and not actor.can(Permission.INQUIRY_ASSIGN):
        raise NotPermitted(_("Du har inte behörighet att tilldela förfrågningar."))
    if inquiry.declared_conflict(assignee) is not None:
        raise DomainError(
            _(
                "%(name)s har anmält jäv för förfrågan och kan inte bli ansvarig för den.",
                name=assignee.name,
            ),
            field="assignee",
        )
    if not may_be_assigned(assignee, inquiry):
        raise DomainError(
            _("Förfrågan kan bara tilldelas generalsekreteraren eller ordföranden."),
            field="assignee",
        )
    if inquiry.assignee_id == assignee.id:
        return
    _set_assignee(inquiry, assignee, actor, reason)
    # Whoever takes an inquiry themselves has it open in front of them.
    inquiry.assignee_seen_at = utcnow() if actor is not None and actor.id == assignee.id else None
    queue_mail(
        "assignee_notice", assignee.email, "assignee_notice",
        inquiry=inquiry, assignee=assignee, assigned_by=actor, reason=reason, reassigned=True,
        link=external_url("inquiries.detail", reference=inquiry.reference),
    )  # fmt: skip
    db.session.flush()


def _set_assignee(inquiry: Inquiry, assignee: User | None, actor, reason: str | None) -> None:
    old = inquiry.assignee
    inquiry.assignee_id = assignee.id if assignee else None
    inquiry.assignee = assignee
    inquiry.assignee_seen_at = None
    record_event(
        "assigned", actor, inquiry=inquiry, old=old.name if old else None,
        new=assignee.name if assignee else None, assignee_id=inquiry.assignee_id, reason=reason,
    )  # fmt: skip
    audit("inquiry_assigned", actor, inquiry, assignee_id=inquiry.assignee_id)


def declare_conflict(inquiry: Inquiry, actor, reason: str) -> User | None:
    """Record that `actor` is jävig; if they are responsible, route the inquiry again
    without anyone jävig. Returns the assignee afterwards."""
    if inquiry.declared_conflict(actor) is not None:
        raise NotPermitted(_("Du har redan anmält jäv för den här förfrågan."))
    require_may_act(inquiry, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Skriv varför du är jävig."), field="reason")
    inquiry.conflicts.append(ConflictDeclaration(user_id=actor.id, user=actor, reason=reason))
    # A new version, so that an assignment to this person made at the same moment conflicts.
    inquiry.updated_at = utcnow()
    record_event("conflict_declared", actor, inquiry=inquiry, reason=reason)
    audit("conflict_declared", actor, inquiry)
    if inquiry.assignee_id == actor.id:
        excluded = {declaration.user_id for declaration in inquiry.conflicts}
        _decision, successor = choose_assignee(inquiry, excluded=excluded)
        _set_assignee(inquiry, successor, actor, "conflict_of_interest")
        if successor is not None:
            queue_mail(
                "assignee_notice", successor.email, "assignee_notice",
                inquiry=inquiry, assignee=successor, assigned_by=actor,
                reason="conflict_of_interest", reassigned=True,
                link=external_url("inquiries.detail", reference=inquiry.reference),
            )  # fmt: skip
    # The declarer's open follow-ups on it go to whoever is responsible now.
    hand_over_follow_ups(inquiry, actor, inquiry.assignee)
    db.session.flush()
    return inquiry.assignee


CONTACT_CHANNELS = (Channel.PHONE, Channel.MEETING, Channel.EMAIL, Channel.OTHER)
CONTACT_SUMMARY_MAX = 2000


def log_contact(
    inquiry: Inquiry, channel: Channel, summary: str, happened_at: datetime, actor,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Staff record a contact they made with the submitter outside Samverka (a call, a meeting,
    their own e-mail); it is a response to the partner from the moment it happened."""
    require_may_act(inquiry, actor)
    now = now or utcnow()
    summary = summary.strip()
    if channel not in CONTACT_CHANNELS:
        raise DomainError(_("Välj ett av alternativen."), field="channel")
    if not summary:
        raise DomainError(_("Skriv vad kontakten gällde."), field="summary")
    if len(summary) > CONTACT_SUMMARY_MAX:
        raise DomainError(_("Högst %(max)d tecken.", max=CONTACT_SUMMARY_MAX), field="summary")
    if happened_at > now:
        raise DomainError(_("Tidpunkten kan inte ligga i framtiden."), field="happened_at")
    # The form gives minutes: a contact in the minute the inquiry came in is no contradiction.
    if happened_at < inquiry.created_at.replace(second=0, microsecond=0):
        raise DomainError(
            _("Tidpunkten kan inte ligga före förfrågan kom in."), field="happened_at"
        )
    happened_at = max(happened_at, inquiry.created_at)
    if inquiry.anonymised_at is not None:
        raise DomainError(_("Personuppgifterna i förfrågan är borttagna."))
    record_event(
        "contact_logged", actor, inquiry=inquiry, at=happened_at,
        channel=channel, summary=summary,
    )  # fmt: skip
    audit("contact_logged", actor, inquiry, channel=channel.value)
    stamp_first_response(inquiry, happened_at)
    inquiry.submitter_replied_at = None  # a call or meeting answers the submitter too
    db.session.flush()


def record_viewed(inquiry: Inquiry, viewer) -> None:
    """Someone opened the inquiry: audit it (it shows contact details), and note that its
    assignee has now seen it.

    The stamp is a guarded UPDATE that leaves the version and `updated_at` alone: looking is
    not an edit, and must not turn other people's open forms into conflicts. It runs whenever
    the assignee looks, so the page always costs the same number of statements.
    """
    audit("inquiry_viewed", viewer, inquiry)
    if inquiry.assignee_id is None or inquiry.assignee_id != viewer.id:
        return
    now = utcnow()
    stamped = db.session.execute(
        update(Inquiry)
        .where(
            Inquiry.id == inquiry.id,
            Inquiry.assignee_id == viewer.id,
            Inquiry.assignee_seen_at.is_(None),
        )
        .values(assignee_seen_at=now, updated_at=Inquiry.updated_at)
        .execution_options(synchronize_session=False)
    )
    if stamped.rowcount:
        set_committed_value(inquiry, "assignee_seen_at", now)


def link_organisation(inquiry: Inquiry, organisation, actor) -> None:
    """Link the inquiry to a register entry, or unlink it with None."""
    require_may_act(inquiry, actor)
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


def change_organisation_link(inquiry: Inquiry, action: str, name: str | None, actor) -> None:
    """Link the inquiry to the register entry named `name`, unlink it, or create its entry."""
    require_may_act(inquiry, actor)
    if action == "unlink":
        link_organisation(inquiry, None, actor)
    elif action == "create":
        create_organisation_from(inquiry, actor)
    elif not name:
        raise DomainError(_("Skriv organisationens namn."), field="organisation_name")
    else:
        link_organisation(inquiry, find_organisation_named(name), actor)


def create_organisation_from(inquiry: Inquiry, actor):
    """Add the inquiry's organisation to the register and link the inquiry to it."""
    require_may_act(inquiry, actor)
    organisation = create_organisation_from_inquiry(inquiry, actor)
    link_organisation(inquiry, organisation, actor)
    return organisation


def log_inquiry(data, channel: Channel, actor, send_receipt: bool = False, files=()):
    """Staff record an inquiry that came by e-mail, phone or meeting; routed like the form."""
    from crm.inquiries.intake import submit_inquiry

    inquiry, token = submit_inquiry(
        data, channel=channel, actor=actor, send_receipt=send_receipt, files=files
    )
    audit("inquiry_logged", actor, inquiry, channel=channel.value)
    return inquiry, token


COUNTERPART_REFERENCE_MAX = 60


def set_counterpart_reference(inquiry: Inquiry, value: str | None, actor) -> None:
    """Record the counterpart's own case number (motpartens diarienummer), or clear it with
    an empty value: one line of printable text, at most 60 characters."""
    require_may_act(inquiry, actor)
    value = " ".join((value or "").split()) or None
    if value is not None and not value.isprintable():
        raise DomainError(
            _("Diarienumret får bara innehålla skrivbara tecken."), field="counterpart_reference"
        )
    if value is not None and len(value) > COUNTERPART_REFERENCE_MAX:
        raise DomainError(
            _("Högst %(max)d tecken.", max=COUNTERPART_REFERENCE_MAX),
            field="counterpart_reference",
        )
    if value == inquiry.counterpart_reference:
        return
    old = inquiry.counterpart_reference
    inquiry.counterpart_reference = value
    inquiry.counterpart_key = counterpart_key_of(value)
    record_event("counterpart_reference_changed", actor, inquiry=inquiry, old=old, new=value)
    audit("inquiry_counterpart_reference_changed", actor, inquiry, old=old, new=value)
    db.session.flush()
