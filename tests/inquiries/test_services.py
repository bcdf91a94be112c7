import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.errors import DomainError, InvalidTransition
from crm.inquiries.services import change_status, withdraw_by_submitter
from crm.inquiries.statuses import TRANSITIONS, Status, allowed_next
from crm.models import Inquiry, TimelineEvent
from crm.timeutil import utcnow
from tests.factories import InquiryFactory, UserFactory

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


# ---- the first response: what is one, and the one function that stamps it -----------------


def _internal_work():
    """Every staff action on an inquiry that is internal work, as (name, action)."""
    from crm.activity.services import add_follow_up, add_note, complete_follow_up
    from crm.choices import Priority
    from crm.inquiries import services
    from tests.factories import OrganisationFactory

    def follow_up(inquiry, secretary, _chair):
        done = add_follow_up("Ring", utcnow().date(), secretary, secretary, inquiry=inquiry)
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
    from crm.inquiries.services import publish_reply

    inquiry = InquiryFactory()
    before = utcnow()
    with app.test_request_context():
        publish_reply(inquiry, "Tack, vi hör av oss i maj.", UserFactory())
    stored = db.session.scalar(select(Inquiry.first_response_at))
    assert before <= stored <= utcnow()


def test_stamping_keeps_the_earliest_response_and_leaves_the_version_alone(db):
    from crm.inquiries.services import stamp_first_response

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
    from crm.activity.queries import public_replies

    actor = UserFactory()
    inquiry = InquiryFactory(created_at=utcnow() - timedelta(days=3))
    called = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    with app.test_request_context():
        contact(inquiry, actor, happened_at=called, summary="  Ringde om budgeten.  ")
    event = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "contact_logged"))
    assert event.data == {"channel": "phone", "summary": "Ringde om budgeten."}
    assert (event.actor_id, event.created_at) == (actor.id, called)
    assert stored_first_response(db, inquiry) == called
    assert public_replies(inquiry) == []  # internal: the status page never shows it


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
