from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm.auth.permissions import Permission
from crm.core.urls import safe_next
from crm.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    return render_template("core/home.html")


@bp.get("/start")
@login_required
def start():
    """Where a user lands after log-in: the first page their role can use. Those who
    follow the work but do not handle inquiries (the board) land on the dashboard."""
    if current_user.can(Permission.REPORT_VIEW) and not current_user.can(Permission.INQUIRY_EDIT):
        return redirect(url_for("reports.dashboard_page"))
    if current_user.can(Permission.INQUIRY_VIEW):
        return redirect(url_for("inquiries.inbox"))
    if current_user.can(Permission.USER_MANAGE):
        return redirect(url_for("users.index"))
    return redirect(url_for("core.home"))


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    back = safe_next(request.form.get("next")) or _same_site_referrer()
    return redirect(back or url_for("core.home"))


def _same_site_referrer() -> str | None:
    """The path of the page the switch was pressed on, if it is one of ours."""
    from urllib.parse import urlsplit

    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/healthz/mail")
def mail_health():
    """For a monitor: 503 while mail needs a person (failed or held messages, or unsent mail
    older than MAIL_ALERT_MINUTES). Counts only, no addresses. /healthz stays database-only."""
    from crm.mail.services import queue_health
    from crm.timeutil import utcnow

    now = utcnow()
    try:
        health = queue_health(now)
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    oldest = health.oldest_unsent_at
    body = {
        "status": "ok" if health.ok else "stuck",
        "failed": health.failed,
        "held": health.held,
        "delayed": health.delayed,
        "oldest_unsent_minutes": int((now - oldest).total_seconds() // 60) if oldest else None,
        "alert_after_minutes": current_app.config["MAIL_ALERT_MINUTES"],
    }
    return body, 200 if health.ok else 503
