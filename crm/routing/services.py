"""Routing: who gets a new inquiry. `route_inquiry` is pure and needs no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from crm.auth.models import User
from crm.auth.permissions import Role
from crm.choices import Addressee
from crm.extensions import db
from crm.routing.models import RoutingRule


class Routable(Protocol):
    addressee: str
    category: str
    organisation_type: str
    organisation_id: int | None


@dataclass(frozen=True)
class Decision:
    """Who gets the inquiry and why: the rule that matched, or which default applied."""

    user_id: int | None
    rule_id: int | None = None
    rule_name: str | None = None
    reason: str = "rule"


def rule_matches(rule, inquiry: Routable) -> bool:
    """A rule matches when every condition it sets equals the inquiry's value."""
    conditions = (
        (rule.addressee, inquiry.addressee),
        (rule.category, inquiry.category),
        (rule.organisation_type, inquiry.organisation_type),
        (rule.organisation_id, inquiry.organisation_id),
    )
    return all(wanted is None or wanted == actual for wanted, actual in conditions)


def route_inquiry(
    inquiry: Routable,
    rules,
    secretary_general_id: int | None,
    chair_id: int | None,
) -> Decision:
    """First matching active rule, else a wish for the chair, else the secretary general."""
    for rule in sorted(rules, key=lambda r: (r.position, r.id or 0)):
        if rule.active and rule_matches(rule, inquiry):
            return Decision(rule.target_user_id, rule.id, rule.name, "rule")
    if inquiry.addressee == Addressee.CHAIR and chair_id is not None:
        return Decision(chair_id, reason="addressee_chair")
    return Decision(secretary_general_id, reason="default_secretary_general")


def role_holder(role: Role) -> User | None:
    """The active user holding a council role (the longest-standing one if several do)."""
    return role_holders(role).get(role)


def role_holders(*roles: Role) -> dict[Role, User]:
    """Each given role's active holder (the longest-standing if several), in one statement."""
    holders: dict[Role, User] = {}
    users = db.session.scalars(
        select(User).where(User.role.in_(roles), User.active.is_(True)).order_by(User.id)
    )
    for user in users:
        holders.setdefault(Role(user.role), user)
    return holders


def active_rules() -> list[RoutingRule]:
    return list(
        db.session.scalars(
            select(RoutingRule)
            .where(RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )


def choose_assignee(inquiry) -> tuple[Decision, User | None]:
    """Route with the rules and role holders in the database: the decision and its user."""
    holders = role_holders(Role.SECRETARY_GENERAL, Role.CHAIR)
    secretary, chair = holders.get(Role.SECRETARY_GENERAL), holders.get(Role.CHAIR)
    decision = route_inquiry(
        inquiry,
        active_rules(),
        secretary.id if secretary else None,
        chair.id if chair else None,
    )
    # The holders are still referenced here, so a role holder comes from the identity map.
    assignee = db.session.get(User, decision.user_id) if decision.user_id else None
    return decision, assignee
