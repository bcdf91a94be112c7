"""The rules for notes and follow-ups, called directly: who may change which."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.activity.models import FollowUp, Note
from crm.activity.services import (
    complete_follow_up,
    edit_note,
    hand_over_follow_ups,
    may_edit_note,
    may_manage_follow_up,
    reschedule_follow_up,
)
from crm.auth.permissions import ROLE_PERMISSIONS, Permission, Role, role_can
from crm.errors import NotPermitted
from crm.extensions import db
from crm.models import AuditLog, ConflictDeclaration
from crm.timeutil import local_today
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory


@pytest.fixture
def people(db):
    return {
        "secretary": UserFactory(role="secretary_general"),
        "other_secretary": UserFactory(role="secretary_general"),
        "chair": UserFactory(role="chair"),
        "board": UserFactory(role="board"),
    }


def follow_up(owner, *, on: str, **attrs) -> FollowUp:
    """A follow-up owned by `owner` on an inquiry, an organisation, both, or nothing."""
    if on in {"inquiry", "both"}:
        organisation = OrganisationFactory() if on == "both" else None
        inquiry = InquiryFactory(organisation_id=organisation.id if organisation else None)
        attrs.update(inquiry_id=inquiry.id, organisation_id=inquiry.organisation_id)
    elif on == "organisation":
        attrs["organisation_id"] = OrganisationFactory().id
    item = FollowUp(
        title="Ring", due_on=local_today(), owner_id=owner.id if owner else None, **attrs
    )
    db.session.add(item)
    db.session.commit()
    return item


# (who acts, whose follow-up, what it hangs on) -> may they mark it done or move it?
MANAGE_CASES = [
    ("chair", "chair", "inquiry", True),  # one's own
    ("chair", "chair", "organisation", True),  # one's own, though the chair can't create one
    ("chair", "secretary", "inquiry", False),  # someone else's
    ("chair", "secretary", "organisation", False),
    ("chair", "secretary", "nothing", False),
    ("chair", None, "inquiry", False),
    ("secretary", "chair", "inquiry", True),  # follow_up:manage_all
    ("secretary", "chair", "organisation", True),  # … with organisation:edit
    ("secretary", "chair", "both", True),
    ("secretary", "chair", "nothing", True),
    ("secretary", None, "organisation", True),
    ("other_secretary", "secretary", "inquiry", True),
    ("board", "board", "nothing", False),  # no inquiry:edit
]


@pytest.mark.parametrize(("actor", "owner", "on", "allowed"), MANAGE_CASES)
def test_who_may_manage_a_follow_up(people, actor, owner, on, allowed):
    item = follow_up(people[owner] if owner else None, on=on)
    assert may_manage_follow_up(people[actor], item) is allowed
    due_on, done = item.due_on, item.completed_at
    if allowed:
        reschedule_follow_up(item, local_today() + timedelta(days=2), people[actor])
        complete_follow_up(item, people[actor])
        assert item.completed_at is not None
        assert item.completed_by_id == people[actor].id
        return
    for action in (
        lambda: complete_follow_up(item, people[actor]),
        lambda: reschedule_follow_up(item, local_today() + timedelta(days=2), people[actor]),
    ):
        with pytest.raises(NotPermitted):
            action()
        db.session.rollback()
        assert (db.session.get(FollowUp, item.id).due_on,
                db.session.get(FollowUp, item.id).completed_at) == (due_on, done)  # fmt: skip


def test_organisation_edit_is_needed_for_someone_elses_organisation_follow_up(people, monkeypatch):
    """The organisation:edit clause refuses here, not the manage-all permission."""
    item = follow_up(people["chair"], on="organisation")
    on_an_inquiry_too = follow_up(people["chair"], on="both")
    secretary = people["secretary"]
    assert may_manage_follow_up(secretary, item)
    table = dict(ROLE_PERMISSIONS)
    table[Role.SECRETARY_GENERAL] -= {Permission.ORGANISATION_EDIT}
    monkeypatch.setattr("crm.auth.permissions.ROLE_PERMISSIONS", table)
    assert not may_manage_follow_up(secretary, item)
    assert may_manage_follow_up(secretary, on_an_inquiry_too)


def test_only_the_secretary_general_manages_everyones_follow_ups():
    holders = {role for role in Role if role_can(role, Permission.FOLLOW_UP_MANAGE_ALL)}
    assert holders == {Role.SECRETARY_GENERAL}


def test_nobody_jävig_on_the_inquiry_manages_its_follow_ups(people):
    item = follow_up(people["chair"], on="inquiry")
    assert may_manage_follow_up(people["chair"], item)
    db.session.add(
        ConflictDeclaration(inquiry_id=item.inquiry_id, user_id=people["chair"].id, reason="x")
    )
    db.session.commit()
    db.session.expire(item.inquiry)
    assert not may_manage_follow_up(people["chair"], item)
    with pytest.raises(NotPermitted, match="jäv"):
        complete_follow_up(item, people["chair"])


def test_notes_belong_to_their_author_for_15_minutes_and_never_after_jav(people):
    inquiry = InquiryFactory()
    chair = people["chair"]
    note = Note(inquiry_id=inquiry.id, author_id=chair.id, body="före")
    db.session.add(note)
    db.session.commit()
    assert may_edit_note(chair, note)
    assert not may_edit_note(people["secretary"], note)
    with pytest.raises(NotPermitted):
        edit_note(note, "hans", people["secretary"])
    db.session.add(ConflictDeclaration(inquiry_id=inquiry.id, user_id=chair.id, reason="x"))
    db.session.commit()
    db.session.expire(inquiry)
    assert not may_edit_note(chair, note)
    with pytest.raises(NotPermitted, match="jäv"):
        edit_note(note, "efter jävet", chair)
    db.session.rollback()
    assert db.session.get(Note, note.id).body == "före"


def test_hand_over_moves_only_the_persons_open_follow_ups_on_that_inquiry(people):
    chair, secretary = people["chair"], people["secretary"]
    mine = follow_up(chair, on="inquiry")
    inquiry = mine.inquiry
    done = FollowUp(title="Klar", due_on=local_today(), owner_id=chair.id, inquiry_id=inquiry.id,
                    completed_at=mine.created_at)  # fmt: skip
    theirs = FollowUp(title="Deras", due_on=local_today(), owner_id=people["board"].id,
                      inquiry_id=inquiry.id)  # fmt: skip
    elsewhere = follow_up(chair, on="inquiry")
    db.session.add_all([done, theirs])
    db.session.commit()
    assert hand_over_follow_ups(inquiry, chair, secretary) == [mine]
    assert (mine.owner_id, done.owner_id, theirs.owner_id, elsewhere.owner_id) == (
        secretary.id, chair.id, people["board"].id, chair.id
    )  # fmt: skip
    audited = db.session.scalar(select(AuditLog).where(AuditLog.action == "follow_up_handed_over"))
    assert audited.object_id == str(mine.id)


# ---- notes, follow-ups and the timeline, where the rules live ---------------------------


@pytest.mark.parametrize(
    ("day", "following"),
    [
        (date(2026, 3, 1), date(2027, 3, 1)),
        (date(2028, 2, 29), date(2029, 2, 28)),  # no 29 February next year
        (date(2026, 12, 31), date(2027, 12, 31)),
    ],
)
def test_next_year(day, following):
    from crm.activity.services import next_year

    assert next_year(day) == following


def test_a_yearly_follow_up_comes_back_once_and_a_plain_one_does_not(people):
    from tests.factories import FollowUpFactory

    owner = people["secretary"]
    yearly = FollowUpFactory(owner_id=owner.id, due_on=date(2026, 3, 1), recurrence="yearly")
    following = complete_follow_up(yearly, owner)
    assert (following.due_on, following.owner_id, following.recurrence) == (
        date(2027, 3, 1),
        owner.id,
        "yearly",
    )
    assert complete_follow_up(yearly, owner) is None  # done already: nothing new
    plain = FollowUpFactory(owner_id=owner.id, due_on=date(2026, 3, 1))
    assert complete_follow_up(plain, owner) is None
    assert plain.completed_by_id == owner.id
    assert db.session.scalars(select(FollowUp.id).where(FollowUp.completed_at.is_(None))).all() == [
        following.id
    ]


def test_a_follow_up_is_never_set_in_the_past(people):
    from crm.activity.services import add_follow_up
    from crm.errors import DomainError

    owner = people["secretary"]
    today = date(2026, 6, 10)
    with pytest.raises(DomainError) as refused:
        add_follow_up("Ring", today - timedelta(days=1), owner, owner, today=today)
    assert refused.value.field == "due_on"
    made = add_follow_up("Ring", today, owner, owner, today=today)
    with pytest.raises(DomainError):
        reschedule_follow_up(made, today - timedelta(days=1), owner, today=today)
    reschedule_follow_up(made, today + timedelta(days=3), owner, today=today)
    assert made.due_on == today + timedelta(days=3)


def test_a_follow_up_on_an_inquiry_shows_on_its_organisation_too(people):
    from crm.activity.services import add_follow_up

    organisation = OrganisationFactory()
    inquiry = InquiryFactory(organisation_id=organisation.id)
    owner = people["secretary"]
    made = add_follow_up("Ring", local_today(), owner, owner, inquiry=inquiry)
    assert (made.inquiry_id, made.organisation_id) == (inquiry.id, organisation.id)


def test_a_note_is_never_empty_and_its_edit_window_is_fifteen_minutes(people):
    from crm.activity.services import NOTE_EDIT_WINDOW, add_note
    from crm.errors import DomainError

    author = people["secretary"]
    inquiry = InquiryFactory()
    with pytest.raises(DomainError):
        add_note("   ", author, inquiry=inquiry)
    note = add_note("  Första  ", author, inquiry=inquiry)
    assert note.body == "Första"
    written = note.created_at
    edit_note(note, "Rättad", author, now=written + NOTE_EDIT_WINDOW)
    assert note.body == "Rättad"
    with pytest.raises(NotPermitted):
        edit_note(note, "För sent", author, now=written + NOTE_EDIT_WINDOW + timedelta(seconds=1))
    with pytest.raises(DomainError):
        edit_note(note, " ", author, now=written)
    assert may_edit_note(author, note, now=written) is True
    assert may_edit_note(people["chair"], note, now=written) is False


def test_note_factory_notes_are_editable_by_their_author(people):
    from tests.factories import NoteFactory

    author = people["chair"]
    note = NoteFactory(inquiry_id=InquiryFactory().id, author_id=author.id)
    assert may_edit_note(author, note)
    assert not may_edit_note(people["secretary"], note)


def test_record_event_takes_objects_or_ids_and_stores_plain_values(people):
    from crm.activity.models import TimelineEvent
    from crm.activity.services import record_event
    from crm.inquiries.statuses import Status

    inquiry = InquiryFactory()
    by_object = record_event("x", people["chair"], inquiry=inquiry, new=Status.TRIAGED)
    by_id = record_event("y", None, inquiry=inquiry.id)
    db.session.flush()
    assert (by_object.inquiry_id, by_id.inquiry_id) == (inquiry.id, inquiry.id)
    assert by_object.data == {"new": "triaged"}
    assert by_id.actor_id is None
    assert db.session.get(TimelineEvent, by_object.id).actor_id == people["chair"].id
