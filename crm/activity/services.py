"""Notes, follow-ups and the timeline, whatever they hang on. Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.attachments.services import attach_files
from crm.audit.services import audit
from crm.auth.permissions import Permission
from crm.choices import Recurrence
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.inquiries.conflicts import may_act_on, may_be_assigned, require_may_act
from crm.timeutil import local_today, utcnow

NOTE_EDIT_WINDOW = timedelta(minutes=15)


def record_event(
    kind: str, actor, *, inquiry=None, organisation=None, at: datetime | None = None, **data: Any
) -> TimelineEvent:
    """Put one event on the timeline of an inquiry and/or an organisation."""
    event = TimelineEvent(
        **timeline_event(kind, actor, inquiry=inquiry, organisation=organisation, **data)
    )
    if at is not None:
        event.created_at = at
    db.session.add(event)
    return event


def timeline_event(kind: str, actor, *, inquiry=None, organisation=None, **data: Any) -> dict:
    """What `record_event` stores for one event, for `record_events`."""
    return {
        "kind": kind,
        "actor_id": actor.id if actor is not None else None,
        "inquiry_id": _id(inquiry),
        "organisation_id": _id(organisation),
        "data": {key: _plain(value) for key, value in data.items()},
    }


def record_events(events: Sequence[dict], at: datetime) -> None:
    """Several events (`timeline_event`) of one moment in one INSERT, without ORM objects:
    for a path where every statement counts (a submission)."""
    # render_nulls: events with and without an actor or organisation share one statement.
    db.session.execute(
        insert(TimelineEvent).execution_options(render_nulls=True),
        [{**event, "created_at": at} for event in events],
    )


def _id(subject) -> int | None:
    """A subject given as an object or as its id."""
    if subject is None or isinstance(subject, int):
        return subject
    return subject.id


def _plain(value: Any) -> Any:
    """JSON-friendly: enums become their stored value."""
    return value.value if hasattr(value, "value") else value


# ---- notes ----------------------------------------------------------------------------------


def add_note(body: str, actor, *, inquiry=None, organisation=None, files=()) -> Note:
    """Internal text on an inquiry (shown on its organisation's record too) or an organisation;
    `files` (prepared uploads) are kept with it, internal like the note."""

    if inquiry is not None:
        require_may_act(inquiry, actor)
    body = body.strip()
    if not body:
        raise DomainError(_("Skriv en anteckning."), field="body")
    note = Note(
        inquiry_id=_id(inquiry),
        organisation_id=_id(organisation) or (inquiry.organisation_id if inquiry else None),
        author_id=actor.id,
        body=body,
    )
    db.session.add(note)
    db.session.flush()
    attach_files(files, note=note, uploaded_by=actor)
    if inquiry is not None:
        record_event("note_added", actor, inquiry=inquiry, note_id=note.id)
        audit("note_added", actor, note, inquiry_id=inquiry.id)
    else:
        record_event("note_added", actor, organisation=organisation, note_id=note.id)
        audit("note_added", actor, note, organisation_id=_id(organisation))
    return note


def note_still_editable(note: Note, now: datetime | None = None) -> bool:
    return (now or utcnow()) - note.created_at <= NOTE_EDIT_WINDOW


def may_edit_note(user, note: Note, now: datetime | None = None) -> bool:
    """Its author, within 15 minutes of writing it, unless they have since declared jäv on its
    inquiry (the one rule the page and the service share)."""
    return (
        note.author_id == user.id
        and note_still_editable(note, now)
        and (note.inquiry is None or may_act_on(user, note.inquiry))
    )


def edit_note(note: Note, body: str, actor, now: datetime | None = None) -> None:
    """The author may correct a note within 15 minutes of writing it."""
    now = now or utcnow()
    if note.inquiry is not None:
        require_may_act(note.inquiry, actor)
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


# ---- follow-ups -----------------------------------------------------------------------------


def add_follow_up(
    title: str, due_on: date, owner, actor, *, inquiry=None, organisation=None,
    recurrence: Recurrence = Recurrence.NONE, today: date | None = None,
) -> FollowUp:  # fmt: skip
    """Something to do by a date; not in the past. One on an inquiry also shows on its
    organisation's record, and is never given to someone jävig on the inquiry."""
    if inquiry is not None:
        require_may_act(inquiry, actor)
        if not may_be_assigned(owner, inquiry):
            message = _(
                "%(name)s har anmält jäv för förfrågan och kan inte få uppföljningar på den.",
                name=owner.name,
            )
            raise DomainError(message, field="owner")
    _check_not_past(due_on, today)
    follow_up = FollowUp(
        title=title.strip(), due_on=due_on, owner_id=owner.id, created_by_id=actor.id,
        inquiry_id=_id(inquiry),
        organisation_id=_id(organisation) or (inquiry.organisation_id if inquiry else None),
        recurrence=recurrence,
    )  # fmt: skip
    db.session.add(follow_up)
    db.session.flush()
    if inquiry is not None:
        record_event(
            "follow_up_added", actor, inquiry=inquiry, title=follow_up.title,
            due_on=due_on.isoformat(),
        )  # fmt: skip
    audit("follow_up_added", actor, follow_up)
    return follow_up


def may_manage_follow_up(user, follow_up: FollowUp) -> bool:
    """Whether the user may mark it done or move it (the page and the services share this).

    Its owner may; so may whoever holds follow_up:manage_all (the secretary general), and for
    a follow-up on an organisation alone only if they may also edit organisations. Nobody
    jävig on the follow-up's inquiry may.
    """
    if user is None or not user.can(Permission.INQUIRY_EDIT):
        return False
    if follow_up.inquiry is not None and not may_act_on(user, follow_up.inquiry):
        return False
    if follow_up.owner_id == user.id:
        return True
    if not user.can(Permission.FOLLOW_UP_MANAGE_ALL):
        return False
    if follow_up.inquiry_id is None and follow_up.organisation_id is not None:
        return user.can(Permission.ORGANISATION_EDIT)
    return True


def require_may_manage_follow_up(follow_up: FollowUp, actor) -> None:
    """Refuse (NotPermitted) anyone `may_manage_follow_up` does not allow, saying why."""
    if may_manage_follow_up(actor, follow_up):
        return
    if follow_up.inquiry is not None:
        require_may_act(follow_up.inquiry, actor)
    raise NotPermitted(_("Bara den som är ansvarig för uppföljningen kan ändra den."))


def complete_follow_up(follow_up: FollowUp, actor) -> FollowUp | None:
    """Mark it done; a yearly one comes back a year later. Returns the next one, if any."""
    require_may_manage_follow_up(follow_up, actor)
    if follow_up.completed_at is not None:
        return None
    follow_up.completed_at = utcnow()
    follow_up.completed_by_id = actor.id
    audit("follow_up_completed", actor, follow_up)
    if follow_up.inquiry_id is not None:
        record_event("follow_up_done", actor, inquiry=follow_up.inquiry_id, title=follow_up.title)
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
    """Move it to another day; not in the past."""
    require_may_manage_follow_up(follow_up, actor)
    _check_not_past(due_on, today)
    follow_up.due_on = due_on
    audit("follow_up_rescheduled", actor, follow_up, due_on=due_on.isoformat())
    db.session.flush()


def hand_over_follow_ups(inquiry, from_user, to_user) -> list[FollowUp]:
    """Give `from_user`'s open follow-ups on the inquiry to `to_user` (nobody if None): what a
    person who declares jäv leaves behind."""
    moved = list(
        db.session.scalars(
            select(FollowUp).where(
                FollowUp.inquiry_id == inquiry.id,
                FollowUp.owner_id == from_user.id,
                FollowUp.completed_at.is_(None),
            )
        )
    )
    for follow_up in moved:
        follow_up.owner = to_user
        follow_up.owner_id = to_user.id if to_user is not None else None
        audit("follow_up_handed_over", from_user, follow_up, owner_id=follow_up.owner_id)
    db.session.flush()
    return moved


def _check_not_past(due_on: date, today: date | None) -> None:
    if due_on < (today or local_today()):
        raise DomainError(_("Datumet har redan passerat."), field="due_on")


def next_year(day: date) -> date:
    """The same date a year later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)
