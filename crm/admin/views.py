from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from crm.auth.models import User
from crm.auth.permissions import Permission, permission_required
from crm.core.idempotency import once, remember_result
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


@bp.get("/mail")
@permission_required(Permission.SETTINGS_MANAGE)
def mail():
    """Mail that needs a person: failed, held after a restore, or delayed unsent messages."""
    from flask import current_app

    from crm.mail.models import kind_label
    from crm.mail.services import messages_needing_attention, queue_health

    rows = messages_needing_attention()
    return render_template(
        "admin/mail.html", rows=rows, health=queue_health(), kind_label=kind_label,
        alert_minutes=current_app.config["MAIL_ALERT_MINUTES"],
    )  # fmt: skip


@bp.post("/mail/<int:message_id>/send-again")
@permission_required(Permission.SETTINGS_MANAGE)
@once()
def mail_send_again(message_id: int):
    from crm.mail.services import send_again

    message = _outbox_message_or_404(message_id)
    if send_again(message, current_user):
        remember_result(url_for("admin.mail"))
        db.session.commit()
        flash(_("Meddelandet skickas vid nästa körning."), "success")
    else:
        db.session.rollback()
        flash(_("Meddelandet är redan skickat, kasserat eller skickas just nu."), "info")
    return redirect(url_for("admin.mail"))


@bp.post("/mail/<int:message_id>/discard")
@permission_required(Permission.SETTINGS_MANAGE)
@once()
def mail_discard(message_id: int):
    from crm.mail.services import discard

    message = _outbox_message_or_404(message_id)
    if discard(message, current_user):
        remember_result(url_for("admin.mail"))
        db.session.commit()
        flash(_("Meddelandet är kasserat och skickas inte."), "success")
    else:
        db.session.rollback()
        flash(_("Meddelandet är redan skickat, kasserat eller skickas just nu."), "info")
    return redirect(url_for("admin.mail"))


def _outbox_message_or_404(message_id: int):
    from crm.mail.models import OutboxMessage

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message
