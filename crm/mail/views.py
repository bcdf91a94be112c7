"""The admin's view of the mail queue: what needs a person, and sending again or discarding."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.core.idempotency import once, remember_result
from crm.extensions import db
from crm.mail import services
from crm.mail.models import OutboxMessage, kind_label

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")


@bp.get("")
@permission_required(Permission.SETTINGS_MANAGE)
def queue():
    """Mail that needs a person: failed, held after a restore, or delayed unsent messages."""
    rows = services.messages_needing_attention()
    return render_template(
        "mail/queue.html", rows=rows, health=services.queue_health(), kind_label=kind_label,
        alert_minutes=current_app.config["MAIL_ALERT_MINUTES"],
    )  # fmt: skip


@bp.post("/<int:message_id>/send-again")
@permission_required(Permission.SETTINGS_MANAGE)
@once()
def send_again(message_id: int):
    return _act(message_id, services.send_again, _("Meddelandet skickas vid nästa körning."))


@bp.post("/<int:message_id>/discard")
@permission_required(Permission.SETTINGS_MANAGE)
@once()
def discard(message_id: int):
    return _act(message_id, services.discard, _("Meddelandet är kasserat och skickas inte."))


def _act(message_id: int, action, success: str):
    """Run the action on the message; one that is sent, discarded or being sent is left be."""
    message = _outbox_message_or_404(message_id)
    if action(message, current_user):
        remember_result(url_for("mail.queue"))
        db.session.commit()
        flash(success, "success")
    else:
        db.session.rollback()
        flash(_("Meddelandet är redan skickat, kasserat eller skickas just nu."), "info")
    return redirect(url_for("mail.queue"))


def _outbox_message_or_404(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message
