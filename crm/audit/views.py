from __future__ import annotations

from flask import Blueprint, render_template, request

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
    return render_template(
        "audit/index.html", rows=rows, actions=recorded_actions(), people=all_users(),
        filters=filters.as_args(), next_before=next_before,
    )  # fmt: skip
