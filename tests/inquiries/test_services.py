import itertools

import pytest

from crm.errors import InvalidTransition
from crm.inquiries.services import change_status
from crm.inquiries.statuses import TRANSITIONS, Status, allowed_next
from crm.models import TimelineEvent
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
