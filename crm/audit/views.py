from __future__ import annotations

from flask import Blueprint, render_template, request

from crm.audit.describe import action_name, describe, names_for
from crm.audit.queries import AuditFilters, audit_page, recorded_actions
from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import all_users

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.get("")
@permission_required(Permission.AUDIT_VIEW)
def index():
    """The audit log, newest first, filtered by action, person and date; read-only."""
    filters = AuditFilters.from_args(request.args)
    rows, next_before = audit_page(filters)
    people = all_users()
    names = names_for(rows, people)
    actions = sorted(((a, action_name(a)) for a in recorded_actions()), key=lambda a: a[1])
    return render_template(
        "audit/index.html", entries=[(row, describe(row, names)) for row in rows],
        actions=actions, people=people, filters=filters.as_args(), next_before=next_before,
    )  # fmt: skip
