"""Routing: who gets a new inquiry, and the rules behind it. `route_inquiry` is pure."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from sqlalchemy import bindparam, func, select

from crm.audit.services import audit
from crm.auth.models import User
from crm.auth.permissions import Role
from crm.choices import Addressee
from crm.extensions import db
from crm.partners.queries import find_organisation_named
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
    excluded: Collection[int] = (),
) -> Decision:
    """First matching active rule, else a wish for the chair, else the secretary general.

    Nobody in `excluded` (those who declared jäv) is ever chosen: their rules are skipped, the
    chair takes over from a jävig secretary general, and nobody is chosen when both are jävig.
    Pass role holders who are free of jäv where there is a choice (see `choose_assignee`).
    """
    free = lambda user_id: user_id is not None and user_id not in excluded  # noqa: E731
    for rule in sorted(rules, key=lambda r: (r.position, r.id or 0)):
        if rule.active and free(rule.target_user_id) and rule_matches(rule, inquiry):
            return Decision(rule.target_user_id, rule.id, rule.name, "rule")
    if inquiry.addressee == Addressee.CHAIR and free(chair_id):
        return Decision(chair_id, reason="addressee_chair")
    if free(secretary_general_id) or not excluded:
        return Decision(secretary_general_id, reason="default_secretary_general")
    if free(chair_id):
        return Decision(chair_id, reason="chair_for_conflicted_secretary_general")
    return Decision(None, reason="nobody_free_of_conflict")


def role_holder(role: Role) -> User | None:
    """The active user holding a council role (the longest-standing one if several do)."""
    return role_holders(role).get(role)


def role_holders(*roles: Role, excluded: Collection[int] = ()) -> dict[Role, User]:
    """Each given role's active holder (the longest-standing if several, leaving out the
    `excluded`), in one statement."""
    holders: dict[Role, User] = {}
    values = {"roles": list(roles)}
    if excluded:
        values["excluded"] = list(excluded)
    for user in db.session.scalars(_holders(bool(excluded)), values):
        holders.setdefault(Role(user.role), user)
    return holders


@cache
def _holders(excluding: bool):
    """`role_holders`'s statement, built once (every public submission runs it)."""
    query = (
        select(User)
        .where(User.role.in_(bindparam("roles", expanding=True)), User.active.is_(True))
        .order_by(User.id)
    )
    if excluding:
        query = query.where(User.id.not_in(bindparam("excluded", expanding=True)))
    return query


def active_rules() -> list[RoutingRule]:
    return list(
        db.session.scalars(
            select(RoutingRule)
            .where(RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )


def choose_assignee(inquiry, excluded: Collection[int] = ()) -> tuple[Decision, User | None]:
    """Route with the rules and role holders in the database: the decision and its user.

    `excluded` are the users who may not get the inquiry (jäv); a role held by several people
    goes to the longest-standing holder who is not excluded.
    """
    holders = role_holders(Role.SECRETARY_GENERAL, Role.CHAIR, excluded=excluded)
    secretary, chair = holders.get(Role.SECRETARY_GENERAL), holders.get(Role.CHAIR)
    decision = route_inquiry(
        inquiry,
        active_rules(),
        secretary.id if secretary else None,
        chair.id if chair else None,
        excluded,
    )
    # The holders are still referenced here, so a role holder comes from the identity map.
    assignee = db.session.get(User, decision.user_id) if decision.user_id else None
    return decision, assignee


# ---- managing the rules (/admin/routing) ---------------------------------------------


def save_rule(rule: RoutingRule | None, values: dict, actor) -> RoutingRule:
    """Create or update a rule from validated form values."""
    organisation = find_organisation_named(values.get("organisation_name"))
    created = rule is None
    if created:
        last = db.session.scalar(select(func.max(RoutingRule.position))) or 0
        rule = RoutingRule(position=last + 1)
        db.session.add(rule)
    rule.name = values["name"]
    rule.addressee = values["addressee"] or None
    rule.category = values["category"] or None
    rule.organisation_type = values["organisation_type"] or None
    rule.target_user_id = int(values["target_user_id"])
    rule.active = bool(values["active"])
    rule.organisation_id = organisation.id if organisation else None
    db.session.flush()
    audit(
        "routing_rule_created" if created else "routing_rule_updated", actor, rule, name=rule.name
    )
    return rule


def move_rule(rule: RoutingRule, direction: str, actor) -> None:
    """Swap the rule with its neighbour above ("up") or below ("down")."""
    rules = list(
        db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    )
    index = rules.index(rule)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    for position, item in enumerate(rules, start=1):
        item.position = position
    db.session.flush()
    audit("routing_rule_moved", actor, rule, direction=direction)


def delete_rule(rule: RoutingRule, actor) -> None:
    audit("routing_rule_deleted", actor, rule, name=rule.name)
    db.session.delete(rule)
    db.session.flush()
