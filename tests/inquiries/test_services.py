import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from crm.activity.models import FollowUp, Note
from crm.activity.services import (
    add_follow_up,
    add_note,
    complete_follow_up,
    edit_note,
    reschedule_follow_up,
)
from crm.choices import Priority
from crm.errors import DomainError, InvalidTransition, NotPermitted
from crm.extensions import db
from crm.inquiries.conflicts import may_act_on, may_be_assigned
from crm.inquiries.queries import assignment_candidates
from crm.inquiries.services import (
    assign,
    change_organisation_link,
    change_status,
    create_organisation_from,
    declare_conflict,
    link_organisation,
    publish_reply,
    record_viewed,
    set_priority,
)
from crm.inquiries.statuses import TRANSITIONS, Status, allowed_next
from crm.models import (
    AuditLog,
    ConflictDeclaration,
    Inquiry,
    Organisation,
    OutboxMessage,
    RoutingRule,
    TimelineEvent,
)
from crm.timeutil import utcnow
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory

ALL_PAIRS = list(itertools.product(Status, Status))

# The table as DESIGN.md draws it, written out once more so that a change to the code's
# table must be a deliberate change to this test too.
DESIGN_TABLE = {
    "new": {"triaged", "declined", "withdrawn", "spam"},
    "triaged": {"in_dialogue", "declined", "withdrawn", "spam"},
    "in_dialogue": {"on_hold", "agreed", "declined", "withdrawn"},
    "on_hold": {"in_dialogue", "declined", "withdrawn"},
    "agreed": {"closed"},
    "declined": {"closed", "triaged"},
    "withdrawn": {"closed"},
    "closed": {"triaged"},
    "spam": set(),
}


def test_transition_table_matches_the_design():
    assert {old.value: {new.value for new in news} for old, news in TRANSITIONS.items()} == (
        DESIGN_TABLE
    )


@pytest.mark.parametrize(("old", "new"), ALL_PAIRS, ids=[f"{o}->{n}" for o, n in ALL_PAIRS])
def test_change_status_follows_the_table(db, old, new):
    actor = UserFactory()
    inquiry = InquiryFactory(status=old)
    if new.value in DESIGN_TABLE[old.value]:
        change_status(inquiry, new, actor)
        assert inquiry.status is new
        event = (
            db.session.query(TimelineEvent)
            .filter(TimelineEvent.inquiry_id == inquiry.id)
            .filter(TimelineEvent.kind.in_(["status_changed", "reopened"]))
            .one()
        )
        assert event.actor_id == actor.id
        assert event.data == {"old": old.value, "new": new.value}
    else:
        with pytest.raises(InvalidTransition):
            change_status(inquiry, new, actor)
        assert inquiry.status is old
        assert db.session.query(TimelineEvent).filter_by(inquiry_id=inquiry.id).count() == 0


def test_first_change_away_from_new_sets_first_response_once(db):
    actor = UserFactory()
    inquiry = InquiryFactory()
    change_status(inquiry, Status.TRIAGED, actor)
    first = inquiry.first_response_at
    assert first is not None
    change_status(inquiry, Status.IN_DIALOGUE, actor)
    assert inquiry.first_response_at == first


def test_outcome_sets_closed_at_and_reopening_clears_it(db):
    actor = UserFactory()
    inquiry = InquiryFactory(status=Status.TRIAGED)
    change_status(inquiry, Status.DECLINED, actor)
    assert inquiry.closed_at is not None
    change_status(inquiry, Status.TRIAGED, actor)
    assert inquiry.closed_at is None
    kinds = [e.kind for e in db.session.query(TimelineEvent).filter_by(inquiry_id=inquiry.id)]
    assert kinds == ["status_changed", "reopened"]


def test_refusal_explains_in_swedish(app, db):
    inquiry = InquiryFactory(status=Status.SPAM)
    with app.test_request_context(), pytest.raises(InvalidTransition) as caught:
        change_status(inquiry, Status.TRIAGED, UserFactory())
    assert str(caught.value) == "En förfrågan med status ”Skräp” kan inte få status ”Bedömd”."


def test_allowed_next_is_in_workflow_order():
    assert allowed_next(Status.NEW) == [
        Status.TRIAGED,
        Status.DECLINED,
        Status.WITHDRAWN,
        Status.SPAM,
    ]
    assert allowed_next(Status.SPAM) == []


def test_spam_removes_personal_data_at_once(db):
    inquiry = InquiryFactory(
        contact_name="Spam Spamsson", email="spam@spam.example", phone="0701234567"
    )
    change_status(inquiry, Status.SPAM, UserFactory())
    assert inquiry.anonymised_at is not None
    assert "Spam" not in inquiry.contact_name
    assert "spam@" not in inquiry.email
    assert inquiry.phone is None
    assert inquiry.status_token_hash is None
    assert inquiry.category == "exhibition"  # statistics stay


# ---- jäv (conflict of interest) -----------------------------------------------------------


def _declared(inquiry, user, reason="Jag sitter i styrelsen."):
    """A declaration stored directly, so each test starts from a jävig user."""
    inquiry.conflicts.append(ConflictDeclaration(user_id=user.id, user=user, reason=reason))
    db.session.commit()
    return user


def _events(inquiry):
    return [e.kind for e in db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.inquiry_id == inquiry.id)
        .order_by(TimelineEvent.id)
    )]  # fmt: skip


def test_may_act_on_and_may_be_assigned(db):
    inquiry = InquiryFactory()
    secretary, chair = UserFactory(role="secretary_general"), UserFactory(role="chair")
    board, retired = UserFactory(role="board"), UserFactory(role="chair", active=False)
    _declared(inquiry, chair)
    assert may_act_on(secretary, inquiry)
    assert may_be_assigned(secretary, inquiry)
    assert not may_act_on(chair, inquiry)
    assert not may_be_assigned(chair, inquiry)
    assert not may_act_on(board, inquiry)
    assert not may_be_assigned(board, inquiry)
    assert not may_act_on(retired, inquiry)
    assert not may_be_assigned(retired, inquiry)
    # jäv is per inquiry: the chair acts on every other one
    other = InquiryFactory()
    assert may_act_on(chair, other)
    assert may_be_assigned(chair, other)


def _note_by(user, inquiry):
    note = Note(inquiry_id=inquiry.id, author_id=user.id, body="före jävet")
    db.session.add(note)
    db.session.commit()
    return note


def _follow_up_of(user, inquiry):
    follow_up = FollowUp(title="Ring", due_on=date.today(), owner_id=user.id, inquiry_id=inquiry.id)
    db.session.add(follow_up)
    db.session.commit()
    return follow_up


def _spare_organisation():
    return db.session.scalar(select(Organisation).where(Organisation.name == "Reservmuseet"))


# Every service that acts on an inquiry, as the jävig user; each must refuse and change nothing.
ACTING_SERVICES = {
    "change_status": lambda inq, me: change_status(inq, Status.TRIAGED, me),
    "set_priority": lambda inq, me: set_priority(inq, Priority.HIGH, me),
    "assign_to_someone_else": lambda inq, me: assign(inq, UserFactory(role="chair"), me),
    "assign_to_themselves": lambda inq, me: assign(inq, me, me),
    "publish_reply": lambda inq, me: publish_reply(inq, "Hej!", me),
    "link_organisation": lambda inq, me: link_organisation(inq, _spare_organisation(), me),
    "unlink_organisation": lambda inq, me: change_organisation_link(inq, "unlink", None, me),
    "create_organisation": lambda inq, me: create_organisation_from(inq, me),
    "add_note": lambda inq, me: add_note("Min åsikt", me, inquiry=inq),
    "edit_note": lambda inq, me: edit_note(_note_by(me, inq), "ändrad", me),
    "add_follow_up": lambda inq, me: add_follow_up(
        "Ring", date.today(), UserFactory(role="secretary_general"), me, inquiry=inq
    ),
    "complete_follow_up": lambda inq, me: complete_follow_up(_follow_up_of(me, inq), me),
    "reschedule_follow_up": lambda inq, me: reschedule_follow_up(
        _follow_up_of(me, inq), date.today() + timedelta(days=3), me
    ),
    "declare_conflict_again": lambda inq, me: declare_conflict(inq, me, "igen"),
}


@pytest.mark.parametrize("action", ACTING_SERVICES)
def test_a_javig_user_cannot_act_on_the_inquiry(db, action):
    OrganisationFactory(name="Reservmuseet")
    organisation = OrganisationFactory()
    inquiry = InquiryFactory(organisation_id=organisation.id)
    me = _declared(inquiry, UserFactory(role="chair"))
    before = (inquiry.status, inquiry.priority, inquiry.assignee_id, inquiry.organisation_id,
              inquiry.version, _events(inquiry))  # fmt: skip
    notes = {n.id: n.body for n in db.session.scalars(select(Note))}
    counted = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    organisations, audited = counted(Organisation), counted(AuditLog)
    with pytest.raises(NotPermitted) as refused:
        ACTING_SERVICES[action](inquiry, me)
    assert "jäv" in str(refused.value)
    # refused before doing anything, not only undone by the view's rollback
    assert (counted(Organisation), counted(AuditLog)) == (organisations, audited)
    db.session.rollback()
    stored = db.session.get(Inquiry, inquiry.id)
    assert (stored.status, stored.priority, stored.assignee_id, stored.organisation_id,
            stored.version, _events(stored)) == before  # fmt: skip
    assert db.session.scalar(select(func.count()).select_from(FollowUp).where(
        FollowUp.completed_at.is_not(None))) == 0  # fmt: skip
    assert all(db.session.get(Note, i).body == body for i, body in notes.items())
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_jav_is_the_first_answer_whatever_else_is_wrong(app, db):
    """A jävig person linking to an unknown name hears about the jäv, not the name."""
    inquiry = InquiryFactory()
    me = _declared(inquiry, UserFactory(role="chair"))
    with app.test_request_context(), pytest.raises(NotPermitted):
        change_organisation_link(inquiry, "link", "Finns inte", me)


def test_the_same_services_work_for_a_colleague_without_jav(db):
    """The refusals above come from the jäv rule, not from the services failing anyway."""
    OrganisationFactory(name="Reservmuseet")
    organisation = OrganisationFactory()
    inquiry = InquiryFactory(organisation_id=organisation.id)
    _declared(inquiry, UserFactory(role="chair"))
    me = UserFactory(role="secretary_general")
    for name, action in ACTING_SERVICES.items():  # the declaration comes last
        if name != "create_organisation":  # one register entry per name: "link" made it
            action(inquiry, me)
    assert inquiry.status is Status.TRIAGED
    assert inquiry.priority == Priority.HIGH
    assert db.session.scalar(select(func.count()).select_from(ConflictDeclaration)) == 2


def test_nobody_can_give_the_inquiry_to_a_javig_user(app, db):
    inquiry = InquiryFactory()
    chair = _declared(inquiry, UserFactory(role="chair", name="Olof Ordförande"))
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        assign(inquiry, chair, UserFactory(role="secretary_general"))
    assert refused.value.field == "assignee"
    assert str(refused.value) == (
        "Olof Ordförande har anmält jäv för förfrågan och kan inte bli ansvarig för den."
    )
    assert inquiry.assignee_id is None
    with pytest.raises(DomainError) as refused:
        add_follow_up("Ring", date.today(), chair, UserFactory(), inquiry=inquiry)
    assert refused.value.field == "owner"


def test_assignment_candidates_leave_out_javiga_users(db):
    inquiry = InquiryFactory()
    secretary = UserFactory(role="secretary_general")
    chair = _declared(inquiry, UserFactory(role="chair"))
    UserFactory(role="board")
    assert assignment_candidates(inquiry) == [secretary]
    assert set(assignment_candidates(InquiryFactory())) == {secretary, chair}


@pytest.mark.parametrize("role", ["secretary_general", "chair"])
def test_anyone_with_inquiry_edit_can_declare_and_it_is_kept(db, role):
    me = UserFactory(role=role)
    inquiry = InquiryFactory()
    version = inquiry.version
    declare_conflict(inquiry, me, "  Min bror driver föreningen.  ")
    db.session.commit()
    [declaration] = db.session.scalars(select(ConflictDeclaration)).all()
    assert (declaration.inquiry_id, declaration.user_id, declaration.reason) == (
        inquiry.id, me.id, "Min bror driver föreningen."
    )  # fmt: skip
    assert declaration.declared_at is not None
    assert inquiry.version == version + 1  # a simultaneous assignment to them conflicts
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == "conflict_declared")
    )
    assert (event.actor_id, event.data["reason"]) == (me.id, "Min bror driver föreningen.")
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "conflict_declared"))


def test_a_board_member_cannot_declare_and_a_reason_is_required(app, db):
    inquiry = InquiryFactory()
    with pytest.raises(NotPermitted):
        declare_conflict(inquiry, UserFactory(role="board"), "x")
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        declare_conflict(inquiry, UserFactory(role="chair"), "   ")
    assert (refused.value.field, str(refused.value)) == ("reason", "Skriv varför du är jävig.")
    assert db.session.scalar(select(func.count()).select_from(ConflictDeclaration)) == 0


def test_a_second_declaration_by_the_same_person_is_refused_and_the_first_stays(app, db):
    me = UserFactory(role="chair")
    inquiry = InquiryFactory()
    declare_conflict(inquiry, me, "Första skälet")
    db.session.commit()
    with app.test_request_context(), pytest.raises(NotPermitted) as refused:
        declare_conflict(inquiry, me, "Andra skälet")
    assert str(refused.value) == "Du har redan anmält jäv för den här förfrågan."
    db.session.rollback()
    assert db.session.scalars(select(ConflictDeclaration.reason)).all() == ["Första skälet"]


def test_a_javig_chair_hands_over_to_the_secretary_general(db):
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=chair.id, assignee_seen_at=utcnow())
    follow_up = _follow_up_of(chair, inquiry)
    assert declare_conflict(inquiry, chair, "Jävig") == secretary
    assert inquiry.assignee_id == secretary.id
    assert inquiry.assignee_seen_at is None
    assert follow_up.owner_id == secretary.id  # what the chair left behind goes along
    assigned = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "assigned"))
    assert assigned.data["reason"] == "conflict_of_interest"
    [notice] = db.session.scalars(select(OutboxMessage)).all()
    assert notice.recipient == secretary.email


def test_a_javig_secretary_general_hands_over_to_the_chair(db):
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=secretary.id)
    assert declare_conflict(inquiry, secretary, "Jävig") == chair
    assert inquiry.assignee_id == chair.id


def test_a_second_secretary_general_is_preferred_to_the_chair(db):
    first = UserFactory(role="secretary_general")
    second = UserFactory(role="secretary_general")
    UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=first.id)
    assert declare_conflict(inquiry, first, "Jävig") == second


def test_when_everyone_is_javig_the_inquiry_is_left_unassigned(db):
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=secretary.id)
    declare_conflict(inquiry, chair, "Jävig")
    assert inquiry.assignee_id == secretary.id  # the chair was not responsible
    follow_up = _follow_up_of(secretary, inquiry)
    assert declare_conflict(inquiry, secretary, "Jävig jag också") is None
    assert inquiry.assignee_id is None
    assert follow_up.owner_id is None
    assigned = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "assigned"))
    assert (assigned.data["old"], assigned.data["new"]) == (secretary.name, None)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_handover_follows_the_routing_rules_but_never_to_a_javig_user(db):
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=chair.id, category="research")
    db.session.add(RoutingRule(position=1, name="Forskning", target_user_id=chair.id,
                               category="research"))  # fmt: skip
    db.session.commit()
    assert declare_conflict(inquiry, chair, "Jävig") == secretary


def test_assignment_resets_seen_and_taking_it_yourself_counts_as_seen(db):
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=secretary.id, assignee_seen_at=utcnow())
    assign(inquiry, chair, secretary)
    assert inquiry.assignee_seen_at is None
    assign(inquiry, secretary, secretary)
    assert inquiry.assignee_seen_at is not None


def test_record_viewed_marks_it_seen_for_the_assignee_only_and_keeps_the_version(db):
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=chair.id)
    version, updated = inquiry.version, inquiry.updated_at
    record_viewed(inquiry, secretary)
    db.session.commit()
    assert db.session.get(Inquiry, inquiry.id).assignee_seen_at is None
    record_viewed(inquiry, chair)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Inquiry, inquiry.id)
    assert stored.assignee_seen_at is not None
    assert (stored.version, stored.updated_at) == (version, updated)
    # reassigned by someone else since this copy was loaded: the stale copy does not count
    handed = InquiryFactory(assignee_id=chair.id)
    db.session.execute(
        update(Inquiry)
        .where(Inquiry.id == handed.id)
        .values(assignee_id=secretary.id)
        .execution_options(synchronize_session=False)
    )
    record_viewed(handed, chair)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Inquiry, handed.id).assignee_seen_at is None
    viewed = db.session.scalars(
        select(AuditLog.actor_id).where(AuditLog.action == "inquiry_viewed")
    )
    assert viewed.all() == [secretary.id, chair.id, chair.id]


# ---- the assignee's notice ----------------------------------------------------------------


def test_a_reassignment_mail_says_it_was_assigned_to_you_and_by_whom(db):
    secretary = UserFactory(role="secretary_general", name="Greta Generalsekreterare")
    chair = UserFactory(role="chair", name="Olof Ordförande")
    inquiry = InquiryFactory(assignee_id=secretary.id, status=Status.TRIAGED)
    assign(inquiry, chair, secretary)
    [notice] = db.session.scalars(select(OutboxMessage)).all()
    assert notice.subject == f"{inquiry.reference} är tilldelad dig av Greta Generalsekreterare"
    assert (
        f"Greta Generalsekreterare har tilldelat dig förfrågan {inquiry.reference}."
        in notice.body_text
    )
    assert "Status: Bedömd" in notice.body_text
    for text in (notice.subject, notice.body_text, notice.body_html):
        assert "ny förfrågan" not in text.lower()
    assert "Greta Generalsekreterare har tilldelat dig" in notice.body_html


def test_a_handover_mail_says_why(db):
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair", name="Olof Ordförande")
    inquiry = InquiryFactory(assignee_id=chair.id)
    declare_conflict(inquiry, chair, "Jävig")
    [notice] = db.session.scalars(select(OutboxMessage)).all()
    assert notice.recipient == secretary.email
    assert notice.subject == f"{inquiry.reference} är tilldelad dig av Olof Ordförande"
    assert "eftersom Olof Ordförande har anmält jäv" in notice.body_text
    assert "Jävig" not in notice.body_text  # the reason stays in Samverka


def test_a_new_inquiry_mail_says_new_inquiry(app, client, db):
    from tests.public.helpers import form_data

    secretary = UserFactory(role="secretary_general")
    client.post("/samverkan", data=form_data(app, organisation_name="Nya museet"))
    [notice] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "assignee_notice")
    ).all()
    assert notice.recipient == secretary.email
    assert notice.subject.startswith("Ny förfrågan SAM-")
    assert "Du är ansvarig för en ny förfrågan" in notice.body_text
    assert "tilldelat dig" not in notice.body_text
