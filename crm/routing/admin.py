"""Managing routing rules: the services behind /admin/routing."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from crm.audit.services import audit
from crm.auth.models import User
from crm.auth.permissions import Role
from crm.errors import DomainError
from crm.extensions import db
from crm.partners.models import Organisation
from crm.partners.services import normalise_name
from crm.routing.models import RoutingRule


def routing_targets() -> list[User]:
    """Who rules may send inquiries to: active secretaries general and chairs."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_([Role.SECRETARY_GENERAL, Role.CHAIR]))
            .order_by(User.name)
        )
    )


def resolve_organisation(name: str | None) -> Organisation | None:
    if not name:
        return None
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name_key == normalise_name(name))
    )
    if organisation is None:
        raise DomainError(
            _("Det finns ingen organisation med det namnet."), field="organisation_name"
        )
    return organisation


def save_rule(rule: RoutingRule | None, values: dict, actor) -> RoutingRule:
    """Create or update a rule from validated form values."""
    organisation = resolve_organisation(values.get("organisation_name"))
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
