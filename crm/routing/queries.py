"""Read-only queries for the routing rules page."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.routing.models import RoutingRule


def get_rule_or_404(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404)
    return rule


def all_rules() -> list[RoutingRule]:
    """Every rule in the order they are tried, with their target and organisation."""
    return list(
        db.session.scalars(
            select(RoutingRule)
            .options(joinedload(RoutingRule.target_user), joinedload(RoutingRule.organisation))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )
