"""The user's own page: calendar feed address and password change."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from crm.activity.calendar import (
    calendar_for,
    issue_calendar_token,
    revoke_calendar_token,
    user_for_calendar_token,
)
from crm.audit.services import audit
from crm.auth.passwords import hash_password, password_problems, verify_password
from crm.auth.services import end_all_sessions
from crm.core.urls import external_url
from crm.extensions import db
from crm.timeutil import utcnow

bp = Blueprint("account", __name__)


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Nuvarande lösenord"),
        validators=[DataRequired(_l("Ange ditt nuvarande lösenord.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Nytt lösenord"),
        validators=[DataRequired(_l("Ange ett nytt lösenord.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Upprepa det nya lösenordet"),
        validators=[DataRequired(_l("Upprepa lösenordet.")),
                    EqualTo("new_password", _l("Lösenorden är inte lika."))],
        render_kw={"autocomplete": "new-password"},
    )  # fmt: skip


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        ok, _rehash = verify_password(current_user.password_hash, form.current_password.data)
        problems = password_problems(form.new_password.data, current_user.email)
        if not ok:
            form.current_password.errors.append(_("Fel lösenord."))
        elif problems:
            form.new_password.errors.extend(problems)
        else:
            current_user.password_hash = hash_password(form.new_password.data)
            current_user.password_changed_at = utcnow()
            end_all_sessions(current_user)  # every other device logs in again
            audit("password_changed", current_user, current_user)
            db.session.commit()
            login_user(current_user)
            session["login_at"] = session["seen_at"] = utcnow().isoformat()
            flash(_("Lösenordet är bytt. Andra inloggningar har avslutats."), "success")
            return redirect(url_for("account.profile"))
    return render_template(
        "auth/account.html", form=form, empty=FlaskForm(), link=session.pop("calendar_link", None)
    )


@bp.post("/account/calendar")
@login_required
def new_calendar_link():
    token = issue_calendar_token(current_user)
    audit("calendar_link_created", current_user, current_user)
    db.session.commit()
    session["calendar_link"] = external_url("account.calendar_feed", token=token)
    return redirect(url_for("account.profile"))


@bp.post("/account/calendar/revoke")
@login_required
def revoke_calendar_link():
    revoke_calendar_token(current_user)
    audit("calendar_link_revoked", current_user, current_user)
    db.session.commit()
    session.pop("calendar_link", None)
    flash(_("Kalenderlänken är borttagen och fungerar inte längre."), "success")
    return redirect(url_for("account.profile"))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    from crm.security import keep_private

    keep_private("no-referrer")  # a feed has no forms
    user = user_for_calendar_token(token)
    if user is None:
        abort(404)
    return calendar_for(user), 200, {"Content-Type": "text/calendar; charset=utf-8"}
