"""route_inquiry is a pure function: a table of cases, no database."""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from crm.routing.services import route_inquiry

SG, CHAIR, OTHER = 1, 2, 3


@dataclass
class Rule:
    id: int
    position: int
    target_user_id: int
    addressee: str | None = None
    category: str | None = None
    organisation_type: str | None = None
    organisation_id: int | None = None
    active: bool = True
    name: str = "regel"


@dataclass
class Inq:
    addressee: str = "no_preference"
    category: str = "exhibition"
    organisation_type: str = "museum"
    organisation_id: int | None = None


RESEARCH_TO_OTHER = Rule(1, 10, OTHER, category="research")
AGENCY_TO_CHAIR = Rule(2, 20, CHAIR, organisation_type="government_agency")
RAA_TO_SG = Rule(3, 5, SG, organisation_id=77)
INACTIVE_CATCH_ALL = Rule(4, 1, OTHER, active=False)
CHAIR_WISH_RESEARCH = Rule(5, 30, SG, addressee="chair", category="research")

CASES = [
    # (inquiry, rules, expected user, expected reason)
    (Inq(), [], SG, "default_secretary_general"),
    (Inq(addressee="chair"), [], CHAIR, "addressee_chair"),
    (Inq(addressee="secretary_general"), [], SG, "default_secretary_general"),
    (Inq(category="research"), [RESEARCH_TO_OTHER], OTHER, "rule"),
    (Inq(category="education"), [RESEARCH_TO_OTHER], SG, "default_secretary_general"),
    (Inq(organisation_type="government_agency"), [AGENCY_TO_CHAIR], CHAIR, "rule"),
    # the lower position wins when two rules match
    (
        Inq(organisation_type="government_agency", organisation_id=77),
        [AGENCY_TO_CHAIR, RAA_TO_SG],
        SG,
        "rule",
    ),
    # inactive rules are skipped
    (Inq(), [INACTIVE_CATCH_ALL], SG, "default_secretary_general"),
    # every condition of a rule must match
    (Inq(addressee="chair", category="education"), [CHAIR_WISH_RESEARCH], CHAIR, "addressee_chair"),
    (Inq(addressee="chair", category="research"), [CHAIR_WISH_RESEARCH], SG, "rule"),
]


@pytest.mark.parametrize(("inquiry", "rules", "user", "reason"), CASES)
def test_route_inquiry(inquiry, rules, user, reason):
    decision = route_inquiry(inquiry, rules, SG, CHAIR)
    assert (decision.user_id, decision.reason) == (user, reason)


def test_chair_wish_without_a_chair_goes_to_the_secretary_general():
    assert route_inquiry(Inq(addressee="chair"), [], SG, None).user_id == SG


def test_nobody_to_route_to_leaves_it_unassigned():
    assert route_inquiry(Inq(), [], None, None).user_id is None


def test_matching_rule_is_named_in_the_decision():
    decision = route_inquiry(Inq(category="research"), [RESEARCH_TO_OTHER], SG, CHAIR)
    assert (decision.rule_id, decision.rule_name) == (1, "regel")


# ---- jäv: the excluded are never chosen ---------------------------------------------------

EXCLUDED_CASES = [
    # (inquiry, rules, excluded, expected user, expected reason)
    (Inq(), [], {SG}, CHAIR, "chair_for_conflicted_secretary_general"),
    (Inq(addressee="chair"), [], {CHAIR}, SG, "default_secretary_general"),
    (Inq(), [], {SG, CHAIR}, None, "nobody_free_of_conflict"),
    (Inq(addressee="chair"), [], {SG, CHAIR}, None, "nobody_free_of_conflict"),
    # a rule for a jävig user is passed over; the next rule or the default applies
    (Inq(category="research"), [RESEARCH_TO_OTHER], {OTHER}, SG, "default_secretary_general"),
    (
        Inq(organisation_type="government_agency", organisation_id=77),
        [AGENCY_TO_CHAIR, RAA_TO_SG],
        {SG},
        CHAIR,
        "rule",
    ),
    # someone jävig who is not involved changes nothing
    (Inq(category="research"), [RESEARCH_TO_OTHER], {CHAIR}, OTHER, "rule"),
]


@pytest.mark.parametrize(("inquiry", "rules", "excluded", "user", "reason"), EXCLUDED_CASES)
def test_route_inquiry_never_chooses_an_excluded_user(inquiry, rules, excluded, user, reason):
    decision = route_inquiry(inquiry, rules, SG, CHAIR, excluded)
    assert (decision.user_id, decision.reason) == (user, reason)
    assert decision.user_id not in excluded


def test_without_exclusions_a_missing_secretary_general_still_leaves_it_unassigned():
    """Unchanged: the chair only stands in for a secretary general who is jävig."""
    assert route_inquiry(Inq(), [], None, CHAIR).user_id is None
    assert route_inquiry(Inq(), [], None, CHAIR, {SG}).user_id == CHAIR


def test_choose_assignee_prefers_a_free_holder_of_the_same_role(db):
    from crm.routing.services import choose_assignee
    from tests.factories import InquiryFactory, UserFactory

    first = UserFactory(role="secretary_general")
    second = UserFactory(role="secretary_general")
    UserFactory(role="chair")
    inquiry = InquiryFactory()
    assert choose_assignee(inquiry)[1] == first
    assert choose_assignee(inquiry, excluded={first.id})[1] == second


# ---- the rules in the database, and the role holders ------------------------------------


def make_rule(db, target, position, **attrs):
    from crm.routing.models import RoutingRule

    rule = RoutingRule(
        position=position, name=f"regel {position}", target_user_id=target.id, **attrs
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def test_active_rules_are_the_active_ones_in_the_order_they_are_tried(db):
    from crm.routing.services import active_rules
    from tests.factories import UserFactory

    target = UserFactory()
    second = make_rule(db, target, 2)
    make_rule(db, target, 1, active=False)
    first = make_rule(db, target, 1)
    tied = make_rule(db, target, 2)
    assert active_rules() == [first, second, tied]


def test_role_holders_are_the_longest_standing_active_holders_of_the_given_roles(db):
    from crm.auth.permissions import Role
    from crm.routing.services import role_holder, role_holders
    from tests.factories import UserFactory

    UserFactory(role="secretary_general", active=False)
    senior = UserFactory(role="secretary_general")
    UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    UserFactory(role="board")
    assert role_holders(Role.SECRETARY_GENERAL) == {Role.SECRETARY_GENERAL: senior}
    assert role_holders(Role.SECRETARY_GENERAL, Role.CHAIR) == {
        Role.SECRETARY_GENERAL: senior,
        Role.CHAIR: chair,
    }
    assert role_holder(Role.BOARD) is not None
    assert role_holders(Role.CHAIR, excluded={chair.id}) == {}


def test_choose_assignee_follows_an_active_rule_in_the_database(db):
    from crm.routing.services import choose_assignee
    from tests.factories import InquiryFactory, UserFactory

    secretary = UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    make_rule(db, chair, 1, category="research")
    decision, user = choose_assignee(InquiryFactory(category="research"))
    assert (decision.reason, user) == ("rule", chair)
    decision, user = choose_assignee(InquiryFactory(category="education"))
    assert (decision.reason, user) == ("default_secretary_general", secretary)


def test_rules_tie_on_position_by_id(db):
    first = Rule(id=1, position=5, target_user_id=SG)
    second = Rule(id=2, position=5, target_user_id=CHAIR)
    assert route_inquiry(Inq(), [second, first], SG, CHAIR).user_id == SG
    unsaved = Rule(id=None, position=5, target_user_id=OTHER)  # a rule not stored yet comes first
    assert route_inquiry(Inq(), [first, unsaved], SG, CHAIR).user_id == OTHER


def rule_values(target, **overrides):
    return {
        "name": "Forskning till ordföranden", "addressee": "chair", "category": "research",
        "organisation_type": "university", "organisation_name": "", "active": True,
        "target_user_id": str(target.id), **overrides,
    }  # fmt: skip


def test_save_rule_stores_every_condition_and_appends_new_rules_last(db):
    from crm.models import AuditLog
    from crm.routing.services import save_rule
    from tests.factories import OrganisationFactory, UserFactory

    chair = UserFactory(role="chair")
    first = save_rule(None, rule_values(chair), chair)
    organisation = OrganisationFactory(name="Jamtli")
    second = save_rule(
        None,
        rule_values(chair, addressee="", category="", organisation_type="",
                    organisation_name="JAMTLI", active=False),
        chair,
    )  # fmt: skip
    assert (first.position, second.position) == (1, 2)
    assert (first.name, first.addressee, first.category, first.organisation_type) == (
        "Forskning till ordföranden",
        "chair",
        "research",
        "university",
    )
    assert (first.target_user_id, first.active, first.organisation_id) == (chair.id, True, None)
    assert (second.addressee, second.category, second.organisation_type) == (None, None, None)
    assert (second.organisation_id, second.active) == (organisation.id, False)
    save_rule(first, rule_values(chair, name="Ändrad"), chair)
    assert (first.name, first.position) == ("Ändrad", 1)
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert actions == ["routing_rule_created", "routing_rule_created", "routing_rule_updated"]


def test_move_rule_swaps_with_its_neighbour_and_stops_at_the_ends(db):
    from crm.routing.services import active_rules, move_rule
    from tests.factories import UserFactory

    target = UserFactory()
    a, b, c = (make_rule(db, target, position) for position in (1, 2, 3))
    move_rule(c, "up", target)
    assert active_rules() == [a, c, b]
    move_rule(a, "up", target)  # the first stays first
    move_rule(b, "down", target)  # the last stays last
    assert active_rules() == [a, c, b]
    move_rule(a, "down", target)
    assert active_rules() == [c, a, b]
    assert [r.position for r in active_rules()] == [1, 2, 3]


def test_delete_rule_removes_it_and_audits_its_name(db):
    from crm.models import AuditLog
    from crm.routing.services import active_rules, delete_rule
    from tests.factories import UserFactory

    target = UserFactory()
    rule = make_rule(db, target, 1)
    delete_rule(rule, target)
    assert active_rules() == []
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "routing_rule_deleted"))
    assert entry.details == {"name": "regel 1"}
    assert entry.object_id == str(rule.id)


def test_rule_changes_are_audited_with_who_and_which(db):
    from crm.models import AuditLog
    from crm.routing.services import delete_rule, move_rule, save_rule
    from tests.factories import UserFactory

    admin = UserFactory(role="admin")
    chair = UserFactory(role="chair")
    rule = save_rule(None, rule_values(chair), admin)
    other = make_rule(db, chair, 2)
    move_rule(other, "up", admin)
    delete_rule(rule, admin)
    entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(e.action, e.actor_id, e.object_id) for e in entries] == [
        ("routing_rule_created", admin.id, str(rule.id)),
        ("routing_rule_moved", admin.id, str(other.id)),
        ("routing_rule_deleted", admin.id, str(rule.id)),
    ]
    assert [e.details for e in entries] == [
        {"name": "Forskning till ordföranden"}, {"direction": "up"},
        {"name": "Forskning till ordföranden"},
    ]  # fmt: skip


def test_the_second_rule_can_move_to_the_top(db):
    from crm.routing.services import active_rules, move_rule
    from tests.factories import UserFactory

    target = UserFactory()
    first, second = make_rule(db, target, 1), make_rule(db, target, 2)
    move_rule(second, "up", target)
    assert active_rules() == [second, first]
    move_rule(second, "down", target)
    assert active_rules() == [first, second]


def test_moving_among_rules_that_share_a_position_keeps_their_id_order(db):
    from crm.routing.services import active_rules, move_rule
    from tests.factories import UserFactory

    target = UserFactory()
    a, b, c = (make_rule(db, target, 1) for _ in range(3))
    move_rule(c, "up", target)
    assert active_rules() == [a, c, b]
