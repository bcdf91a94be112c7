"""route_inquiry is a pure function: a table of cases, no database."""

from dataclasses import dataclass

import pytest

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
