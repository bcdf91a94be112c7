import itertools
import re
from datetime import UTC, date, datetime, timedelta

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
from crm.conversation.services import acknowledge_answer, send_reply
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
    record_viewed,
    set_priority,
    withdraw_by_submitter,
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
from crm.timeutil import local_today, utcnow
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory
from tests.helpers import rendered

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


ALLOWED_MOVES = [(old, new) for old, news in TRANSITIONS.items() for new in sorted(news)]


@pytest.mark.parametrize(("old", "new"), ALLOWED_MOVES, ids=[f"{o}->{n}" for o, n in ALLOWED_MOVES])
def test_only_a_move_that_ends_the_wait_is_a_first_response(db, old, new):
    """Declined and spam answer the partner; triaged, in dialogue and the rest do not."""
    inquiry = InquiryFactory(status=old)
    change_status(inquiry, new, UserFactory())
    stored = db.session.scalar(select(Inquiry.first_response_at).where(Inquiry.id == inquiry.id))
    if new in (Status.DECLINED, Status.SPAM):
        assert stored is not None
        assert inquiry.first_response_at == stored
    else:
        assert stored is None
        assert inquiry.first_response_at is None


def test_a_move_by_nobody_is_no_response(db):
    inquiry = InquiryFactory()
    withdraw_by_submitter(inquiry)
    assert inquiry.first_response_at is None


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
    follow_up = FollowUp(
        title="Ring", due_on=local_today(), owner_id=user.id, inquiry_id=inquiry.id
    )
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
    "send_reply": lambda inq, me: send_reply(inq, "Hej!", me),
    "acknowledge_answer": lambda inq, me: acknowledge_answer(inq, me),
    "link_organisation": lambda inq, me: link_organisation(inq, _spare_organisation(), me),
    "unlink_organisation": lambda inq, me: change_organisation_link(inq, "unlink", None, me),
    "create_organisation": lambda inq, me: create_organisation_from(inq, me),
    "add_note": lambda inq, me: add_note("Min åsikt", me, inquiry=inq),
    "edit_note": lambda inq, me: edit_note(_note_by(me, inq), "ändrad", me),
    "add_follow_up": lambda inq, me: add_follow_up(
        "Ring", local_today(), UserFactory(role="secretary_general"), me, inquiry=inq
    ),
    "complete_follow_up": lambda inq, me: complete_follow_up(_follow_up_of(me, inq), me),
    "reschedule_follow_up": lambda inq, me: reschedule_follow_up(
        _follow_up_of(me, inq), local_today() + timedelta(days=3), me
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
        add_follow_up("Ring", local_today(), chair, UserFactory(), inquiry=inquiry)
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
    assert notice.subject == f"[{inquiry.reference}] Tilldelad dig av Greta Generalsekreterare"
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
    assert notice.subject == f"[{inquiry.reference}] Tilldelad dig av Olof Ordförande"
    assert "eftersom Olof Ordförande har anmält jäv" in notice.body_text
    assert "Jävig" not in notice.body_text  # the reason stays in Samverka


def test_a_new_inquiry_mail_says_new_inquiry(app, client, db):
    from tests.public.helpers import form_data

    secretary = UserFactory(role="secretary_general")
    client.post("/samverkan", data=form_data(app, organisation_name="Nya museet"))
    [notice] = rendered(db, "assignee_notice")  # as the sender renders it
    assert notice.recipient == secretary.email
    assert re.fullmatch(r"\[SAM-\d{4}-\d{4}\] Ny förfrågan från Nya museet", notice.subject)
    assert "Du är ansvarig för en ny förfrågan" in notice.body_text
    assert "tilldelat dig" not in notice.body_text


# ---- the first response: what is one, and the one function that stamps it -----------------


def _internal_work():
    """Every staff action on an inquiry that is internal work, as (name, action)."""
    from crm.activity.services import add_follow_up, add_note, complete_follow_up
    from crm.choices import Priority
    from crm.inquiries import services
    from tests.factories import OrganisationFactory

    def follow_up(inquiry, secretary, _chair):
        done = add_follow_up("Ring", local_today(), secretary, secretary, inquiry=inquiry)
        complete_follow_up(done, secretary)

    def moves(*statuses):
        def move(inquiry, secretary, _chair):
            for status in statuses:
                change_status(inquiry, status, secretary)

        return move

    return {
        "note": lambda inquiry, secretary, _chair: add_note(
            "Ring dem.", secretary, inquiry=inquiry
        ),
        "priority": lambda inquiry, secretary, _chair: services.set_priority(
            inquiry, Priority.HIGH, secretary
        ),
        "assignment": lambda inquiry, secretary, _chair: services.assign(
            inquiry, secretary, secretary
        ),
        "conflict of interest": lambda inquiry, _secretary, chair: services.declare_conflict(
            inquiry, chair, "Jag sitter i styrelsen."
        ),
        "follow-up added and done": follow_up,
        "organisation linked": lambda inquiry, secretary, _chair: services.link_organisation(
            inquiry, OrganisationFactory(), secretary
        ),
        "triaged": moves(Status.TRIAGED),
        "in dialogue, on hold and back": moves(
            Status.TRIAGED, Status.IN_DIALOGUE, Status.ON_HOLD, Status.IN_DIALOGUE
        ),
        "withdrawn for the partner": moves(Status.WITHDRAWN),
    }


INTERNAL_WORK = list(_internal_work())


@pytest.mark.parametrize("name", INTERNAL_WORK)
def test_internal_work_is_no_response(app, db, name):
    """Notes, priority, assignment, conflicts, follow-ups, the register and moves that do not
    end the partner's wait leave the first response unset."""
    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=chair.id)
    with app.test_request_context():
        _internal_work()[name](inquiry, secretary, chair)
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(TimelineEvent)) > 0  # it acted
    assert stored_first_response(db, inquiry) is None
    assert inquiry.first_response_at is None


def test_a_public_reply_is_the_first_response(app, db):
    inquiry = InquiryFactory()
    before = utcnow()
    with app.test_request_context():
        send_reply(inquiry, "Tack, vi hör av oss i maj.", UserFactory())
    stored = db.session.scalar(select(Inquiry.first_response_at))
    assert before <= stored <= utcnow()


def test_stamping_keeps_the_earliest_response_and_leaves_the_version_alone(db):
    from crm.inquiries.response import stamp_first_response

    inquiry = InquiryFactory()
    version = inquiry.version
    tuesday, monday = at(2026, 11, 24), at(2026, 11, 23)
    stamp_first_response(inquiry, tuesday)
    stamp_first_response(inquiry, at(2026, 11, 25))  # later: the first one stands
    assert stored_first_response(db, inquiry) == tuesday
    stamp_first_response(inquiry, monday)  # a contact logged afterwards that happened before
    assert stored_first_response(db, inquiry) == monday
    assert inquiry.first_response_at == monday
    assert db.session.scalar(select(Inquiry.version).where(Inquiry.id == inquiry.id)) == version


def at(year, month, day, hour=10):
    return datetime(year, month, day, hour, tzinfo=UTC)


def stored_first_response(db, inquiry):
    return db.session.scalar(select(Inquiry.first_response_at).where(Inquiry.id == inquiry.id))


# ---- contact logged as made ---------------------------------------------------------------


def contact(inquiry, actor, **overrides):
    from crm.choices import Channel
    from crm.inquiries.services import log_contact

    values = {
        "channel": Channel.PHONE,
        "summary": "Ringde Anna och berättade att vi tar upp det i styrelsen.",
        "happened_at": utcnow() - timedelta(hours=2),
    }
    values.update(overrides)
    log_contact(inquiry, values["channel"], values["summary"], values["happened_at"], actor)


def test_a_logged_contact_is_timelined_when_it_happened_and_answers_the_partner(app, db):
    from crm.conversation.queries import messages_of

    actor = UserFactory()
    inquiry = InquiryFactory(created_at=utcnow() - timedelta(days=3))
    called = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    with app.test_request_context():
        contact(inquiry, actor, happened_at=called, summary="  Ringde om budgeten.  ")
    event = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "contact_logged"))
    assert event.data == {"channel": "phone", "summary": "Ringde om budgeten."}
    assert (event.actor_id, event.created_at) == (actor.id, called)
    assert stored_first_response(db, inquiry) == called
    assert messages_of(inquiry) == []  # internal: the status page never shows it


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"summary": "   "}, "summary"),
        ({"summary": "x" * 2001}, "summary"),
        ({"happened_at": "future"}, "happened_at"),
        ({"happened_at": "before_the_inquiry"}, "happened_at"),
        ({"channel": "web_form"}, "channel"),
    ],
)
def test_a_contact_is_refused_when_it_cannot_be_true(app, db, overrides, field):
    inquiry = InquiryFactory(created_at=utcnow() - timedelta(days=1))
    moments = {
        "future": utcnow() + timedelta(minutes=5),
        "before_the_inquiry": inquiry.created_at - timedelta(minutes=1),
    }
    overrides = {key: moments.get(value, value) for key, value in overrides.items()}
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        contact(inquiry, UserFactory(), **overrides)
    assert refused.value.field == field
    assert stored_first_response(db, inquiry) is None
    assert db.session.scalar(select(TimelineEvent.id)) is None


def test_the_longest_summary_is_accepted(app, db):
    inquiry = InquiryFactory(created_at=utcnow() - timedelta(days=1))
    with app.test_request_context():
        contact(inquiry, UserFactory(), summary="x" * 2000)
    assert stored_first_response(db, inquiry) is not None


def test_a_contact_in_the_minute_the_inquiry_came_in_counts_from_its_arrival(app, db):
    """The form gives minutes: a call logged at 10:00 for an inquiry logged at 10:00:30 is
    accepted, and the response time is never negative."""
    arrived = at(2026, 11, 24).replace(second=30)
    inquiry = InquiryFactory(created_at=arrived)
    with app.test_request_context():
        contact(inquiry, UserFactory(), happened_at=arrived.replace(second=0))
    assert stored_first_response(db, inquiry) == arrived


def test_no_contact_is_logged_on_an_anonymised_inquiry(app, db):
    inquiry = InquiryFactory(created_at=utcnow() - timedelta(days=1), anonymised_at=utcnow())
    with app.test_request_context(), pytest.raises(DomainError):
        contact(inquiry, UserFactory())


# ---- response_overdue: one predicate, in Python and in SQL ----------------------------------

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
PAST, FUTURE = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
OVERDUE_CASES = [
    # status, answered, due → awaiting a first response, overdue
    (Status.NEW, False, PAST, True, True),
    (Status.TRIAGED, False, PAST, True, True),
    (Status.IN_DIALOGUE, False, PAST, True, True),
    (Status.NEW, False, FUTURE, True, False),
    (Status.NEW, False, NOW, True, False),  # due this very moment: not yet late
    (Status.NEW, False, None, True, False),
    (Status.NEW, True, PAST, False, False),
    (Status.TRIAGED, True, PAST, False, False),
    (Status.ON_HOLD, False, PAST, False, False),  # the clock is paused
    (Status.AGREED, False, PAST, False, False),
    (Status.DECLINED, False, PAST, False, False),
    (Status.WITHDRAWN, False, PAST, False, False),
    (Status.CLOSED, False, PAST, False, False),
    (Status.SPAM, False, PAST, False, False),
]


def test_response_overdue_means_the_same_in_python_and_in_sql(db):
    rows = [
        InquiryFactory(
            status=status,
            first_response_at=NOW - timedelta(days=2) if answered else None,
            first_response_due_at=due,
        )
        for status, answered, due, _awaiting, _overdue in OVERDUE_CASES
    ]
    ids = [row.id for row in rows]
    in_sql = set(db.session.scalars(select(Inquiry.id).where(Inquiry.response_overdue(NOW))))
    awaiting_in_sql = set(db.session.scalars(select(Inquiry.id).where(Inquiry.awaiting_response)))
    for row, (status, answered, due, awaiting, overdue) in zip(rows, OVERDUE_CASES, strict=True):
        case = (status, answered, due)
        assert row.response_overdue(NOW) is overdue, case
        assert (row.id in in_sql) is overdue, case
        assert row.awaiting_response is awaiting, case
        assert (row.id in awaiting_in_sql) is awaiting, case
    assert in_sql <= set(ids)


# ---- the outcome survives closing -----------------------------------------------------------


@pytest.mark.parametrize("status", [Status.AGREED, Status.DECLINED, Status.WITHDRAWN])
def test_the_outcome_is_kept_through_closing_and_cleared_by_reopening(db, status):
    actor = UserFactory()
    inquiry = InquiryFactory(status=Status.IN_DIALOGUE)
    change_status(inquiry, status, actor)
    assert inquiry.outcome == status
    ended = inquiry.closed_at
    change_status(inquiry, Status.CLOSED, actor)
    assert (inquiry.status, inquiry.outcome) == (Status.CLOSED, status)
    assert inquiry.closed_at == ended  # the outcome's moment, not the closing's
    change_status(inquiry, Status.TRIAGED, actor)
    assert (inquiry.outcome, inquiry.closed_at) == (None, None)
    stored = db.session.scalar(select(Inquiry.outcome).where(Inquiry.id == inquiry.id))
    assert stored is None


def test_reopening_a_declined_inquiry_clears_its_outcome(db):
    inquiry = InquiryFactory(status=Status.TRIAGED)
    change_status(inquiry, Status.DECLINED, UserFactory())
    assert inquiry.outcome == "declined"
    change_status(inquiry, Status.TRIAGED, UserFactory())
    assert inquiry.outcome is None


def test_spam_and_withdrawal_by_the_submitter_are_outcomes(db):
    spam, withdrawn = InquiryFactory(), InquiryFactory()
    change_status(spam, Status.SPAM, UserFactory())
    withdraw_by_submitter(withdrawn)
    assert (spam.outcome, withdrawn.outcome) == ("spam", "withdrawn")


@pytest.mark.parametrize("status", [Status.TRIAGED, Status.IN_DIALOGUE, Status.ON_HOLD])
def test_work_in_progress_has_no_outcome(db, status):
    inquiry = InquiryFactory(status=Status.NEW if status is Status.TRIAGED else Status.TRIAGED)
    if status is Status.ON_HOLD:
        change_status(inquiry, Status.IN_DIALOGUE, UserFactory())
    change_status(inquiry, status, UserFactory())
    assert inquiry.outcome is None


def test_assign_needs_the_assign_permission_of_the_one_who_assigns(db, monkeypatch):
    from crm.auth.permissions import ROLE_PERMISSIONS, Permission, Role

    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=secretary.id)
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.CHAIR, ROLE_PERMISSIONS[Role.CHAIR] - {Permission.INQUIRY_ASSIGN}
    )
    with pytest.raises(NotPermitted):
        assign(inquiry, chair, chair)
    assert inquiry.assignee_id == secretary.id


@pytest.mark.parametrize("role", ["board", "admin"])
def test_only_council_officers_can_be_made_responsible(db, role):
    secretary = UserFactory(role="secretary_general")
    inquiry = InquiryFactory(assignee_id=secretary.id)
    with pytest.raises(DomainError) as refused:
        assign(inquiry, UserFactory(role=role), secretary)
    assert refused.value.field == "assignee"
    assert inquiry.assignee_id == secretary.id


# ---- the response clock: working days, pauses on hold, target per priority ---------------

STOCKHOLM_TZ = __import__("zoneinfo").ZoneInfo("Europe/Stockholm")


def swedish(*args):
    return datetime(*args, tzinfo=STOCKHOLM_TZ).astimezone(UTC)


def an_inquiry_received_monday(secretary, **attrs):
    """Received Monday 30 November 2026 10:00; five working days: due Monday 7 December."""
    return InquiryFactory(
        assignee_id=secretary.id, status=Status.IN_DIALOGUE,
        created_at=swedish(2026, 11, 30, 10), first_response_due_at=swedish(2026, 12, 7, 17),
        **attrs,
    )  # fmt: skip


def test_on_hold_stops_the_clock_and_gives_back_the_working_days(db):
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary)
    change_status(inquiry, Status.ON_HOLD, secretary, now=swedish(2026, 12, 1, 12))
    assert not inquiry.response_overdue(swedish(2026, 12, 8, 9))  # past the old deadline, paused
    change_status(inquiry, Status.IN_DIALOGUE, secretary, now=swedish(2026, 12, 3, 12))
    # Tuesday and Wednesday ended during the pause: two working days back
    assert inquiry.response_paused_days == 2
    assert inquiry.response_paused_at is None
    assert inquiry.first_response_due_at == swedish(2026, 12, 9, 17)
    assert not inquiry.response_overdue(swedish(2026, 12, 8, 18))
    assert inquiry.response_overdue(swedish(2026, 12, 9, 17, 1))


def test_a_deadline_missed_before_the_pause_stays_missed(db):
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary)
    change_status(inquiry, Status.ON_HOLD, secretary, now=swedish(2026, 12, 8, 9))
    change_status(inquiry, Status.IN_DIALOGUE, secretary, now=swedish(2026, 12, 14, 9))
    assert inquiry.response_paused_days == 0
    assert inquiry.first_response_due_at == swedish(2026, 12, 7, 17)


def test_an_answered_inquiry_on_hold_starts_no_pause(db):
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary, first_response_at=swedish(2026, 11, 30, 11))
    change_status(inquiry, Status.ON_HOLD, secretary, now=swedish(2026, 12, 1, 12))
    assert inquiry.response_paused_at is None


def test_the_priority_sets_the_target_and_keeps_the_pauses(app, db):
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary, response_paused_days=2)
    set_priority(inquiry, Priority.HIGH, secretary)  # 2 working days + 2 paused
    assert inquiry.first_response_due_at == swedish(2026, 12, 4, 17)
    set_priority(inquiry, Priority.LOW, secretary)  # 5 + 2
    assert inquiry.first_response_due_at == swedish(2026, 12, 9, 17)
    assert app.config["RESPONSE_TARGET_DAYS_HIGH"] == 2


def test_an_answered_inquiry_keeps_its_deadline_when_the_priority_changes(db):
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary, first_response_at=swedish(2026, 11, 30, 11))
    set_priority(inquiry, Priority.HIGH, secretary)
    assert inquiry.first_response_due_at == swedish(2026, 12, 7, 17)


def test_a_closure_day_during_the_pause_is_not_given_back(db):
    from crm.workdays.models import ClosureDay

    secretary = UserFactory(role="secretary_general")
    db.session.add(ClosureDay(day=date(2026, 12, 2), reason="Personaldag"))
    db.session.commit()
    inquiry = an_inquiry_received_monday(secretary)
    change_status(inquiry, Status.ON_HOLD, secretary, now=swedish(2026, 12, 1, 12))
    change_status(inquiry, Status.IN_DIALOGUE, secretary, now=swedish(2026, 12, 3, 12))
    assert inquiry.response_paused_days == 1  # Tuesday only: Wednesday was closed
    # five working days from Monday, skipping the closure day, plus one: Wednesday the 9th
    assert inquiry.first_response_due_at == swedish(2026, 12, 9, 17)


def test_changing_the_priority_is_one_edit(db):
    """Recomputing the deadline must not flush the change half-way: the version moves by one."""
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary)
    version = inquiry.version
    set_priority(inquiry, Priority.HIGH, secretary)
    assert inquiry.version == version + 1
    change_status(inquiry, Status.ON_HOLD, secretary, now=swedish(2026, 12, 1, 12))
    change_status(inquiry, Status.IN_DIALOGUE, secretary, now=swedish(2026, 12, 3, 12))
    assert inquiry.version == version + 3


def test_stamping_touches_only_its_own_inquiry(db):
    from crm.inquiries.response import stamp_first_response

    inquiry, other = InquiryFactory(), InquiryFactory()
    stamp_first_response(inquiry, at(2026, 11, 24))
    assert stored_first_response(db, other) is None


def test_the_same_moment_twice_is_one_stamp(db, count_queries):
    from crm.inquiries.response import stamp_first_response

    inquiry = InquiryFactory()
    stamp_first_response(inquiry, at(2026, 11, 24))
    with count_queries() as statements:
        stamp_first_response(inquiry, at(2026, 11, 24))
    assert statements() == 0  # nothing to write: already answered then


def test_a_stale_copy_learns_the_earlier_response_someone_else_stored(db):
    """Another request stored an earlier response meanwhile: this copy must not claim its own."""
    from crm.inquiries.response import stamp_first_response

    inquiry = InquiryFactory()
    db.session.execute(
        update(Inquiry).where(Inquiry.id == inquiry.id).values(first_response_at=at(2026, 11, 23))
    )
    assert inquiry.first_response_at is None  # this copy has not seen it
    stamp_first_response(inquiry, at(2026, 11, 24))
    assert inquiry.first_response_at == at(2026, 11, 23)
    assert stored_first_response(db, inquiry) == at(2026, 11, 23)


def test_pauses_add_up(db):
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary, response_paused_days=2)
    change_status(inquiry, Status.ON_HOLD, secretary, now=swedish(2026, 12, 1, 12))
    change_status(inquiry, Status.IN_DIALOGUE, secretary, now=swedish(2026, 12, 2, 12))
    assert inquiry.response_paused_days == 3  # two before, one (Tuesday) now


def test_an_inquiry_without_a_stored_deadline_gets_one_when_it_resumes(db):
    secretary = UserFactory(role="secretary_general")
    inquiry = an_inquiry_received_monday(secretary)
    change_status(inquiry, Status.ON_HOLD, secretary, now=swedish(2026, 12, 1, 12))
    inquiry.first_response_due_at = None  # as on rows from before deadlines were stored
    change_status(inquiry, Status.IN_DIALOGUE, secretary, now=swedish(2026, 12, 3, 12))
    assert inquiry.response_paused_days == 2
    assert inquiry.first_response_due_at == swedish(2026, 12, 9, 17)


# ---- the counterpart's case number (motpartens diarienummer) ------------------------------


def test_the_counterparts_case_number_is_trimmed_on_the_timeline_and_audited(db):
    from crm.inquiries.services import set_counterpart_reference

    actor = UserFactory(role="secretary_general")
    inquiry = InquiryFactory()
    set_counterpart_reference(inquiry, "  KS   2026/123 ", actor)
    assert inquiry.counterpart_reference == "KS 2026/123"
    assert inquiry.counterpart_key == "ks2026/123"
    set_counterpart_reference(inquiry, "KS 2026/123", actor)  # unchanged: nothing recorded
    set_counterpart_reference(inquiry, "", actor)
    assert (inquiry.counterpart_reference, inquiry.counterpart_key) == (None, None)
    events = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == "counterpart_reference_changed")
    ).all()
    assert [(e.data["old"], e.data["new"]) for e in events] == [
        (None, "KS 2026/123"), ("KS 2026/123", None),
    ]  # fmt: skip
    audited = select(func.count()).where(AuditLog.action == "inquiry_counterpart_reference_changed")
    assert db.session.scalar(audited) == 2


@pytest.mark.parametrize("value", ["KS\x072026", "Dnr\u200b12", "x" * 61])
def test_a_case_number_must_be_printable_and_short(db, value):
    from crm.inquiries.services import set_counterpart_reference

    inquiry = InquiryFactory()
    with pytest.raises(DomainError) as refused:
        set_counterpart_reference(inquiry, value, UserFactory(role="secretary_general"))
    assert refused.value.field == "counterpart_reference"
    assert inquiry.counterpart_reference is None


def test_a_conflicted_user_may_not_set_the_case_number(db):
    from crm.inquiries.services import declare_conflict, set_counterpart_reference

    actor = UserFactory(role="chair")
    inquiry = InquiryFactory()
    declare_conflict(inquiry, actor, "Jag sitter i deras styrelse.")
    with pytest.raises(NotPermitted):
        set_counterpart_reference(inquiry, "KS 1", actor)


def test_a_reply_to_an_authority_is_flagged():
    from crm.choices import OrganisationType
    from crm.inquiries.models import Inquiry

    assert Inquiry(organisation_type=OrganisationType.GOVERNMENT_AGENCY).to_authority
    assert Inquiry(organisation_type=OrganisationType.MUNICIPALITY_REGION).to_authority
    museum = OrganisationType.MUSEUM
    assert not Inquiry(organisation_type=museum).to_authority
    assert Inquiry(organisation_type=museum, counterpart_reference="1").to_authority
