from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from crm.auth.models import User
from crm.auth.permissions import Permission, permission_required
from crm.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@permission_required(Permission.USER_MANAGE)
def users():
    rows = db.session.scalars(select(User).order_by(User.name, User.id)).all()
    return render_template("admin/users.html", users=rows)


AUDIT_PAGE = 100


@bp.get("/audit")
@permission_required(Permission.AUDIT_VIEW)
def audit_log():
    """The audit log, newest first, filtered by action, person and date; read-only."""
    from datetime import UTC, datetime, timedelta

    from flask import request

    from crm.audit.models import AuditLog

    action = (request.args.get("action") or "").strip()[:60]
    actor = (request.args.get("actor") or "").strip()
    day = (request.args.get("date") or "").strip()
    before = (request.args.get("before") or "").strip()
    query = select(AuditLog)
    if action:
        query = query.where(AuditLog.action == action)
    if actor.isdigit():
        query = query.where(AuditLog.actor_id == int(actor))
    try:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC) if day else None
    except ValueError:
        start = None
    if start is not None:
        query = query.where(
            AuditLog.created_at >= start, AuditLog.created_at < start + timedelta(days=1)
        )
    if before.isdigit():
        query = query.where(AuditLog.id < int(before))
    rows = db.session.scalars(query.order_by(AuditLog.id.desc()).limit(AUDIT_PAGE + 1)).all()
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    actions = db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    people = db.session.scalars(select(User).order_by(User.name)).all()
    return render_template(
        "admin/audit.html", rows=rows, actions=actions, people=people,
        filters={"action": action, "actor": actor, "date": day if start else ""},
        next_before=rows[-1].id if more and rows else None,
    )  # fmt: skip
