from __future__ import annotations

from datetime import datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from crm.activity.calendar import (
    calendar_for,
    issue_calendar_token,
    revoke_calendar_token,
    user_for_calendar_token,
)
from crm.audit.services import audit
from crm.auth.forms import LoginForm, PasswordChangeForm
from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import all_users
from crm.auth.services import authenticate, change_password, end_all_sessions
from crm.core.forms import show_domain_error
from crm.core.urls import external_url, safe_next
from crm.errors import DomainError
from crm.extensions import db, limiter
from crm.security import keep_private
from crm.timeutil import utcnow

bp = Blueprint("auth", __name__)
account_bp = Blueprint("account", __name__)  # every user's own page
users_bp = Blueprint("users", __name__, url_prefix="/admin/users")
SEEN_AT_RESOLUTION = timedelta(minutes=1)


def _login_account() -> str:
    return request.form.get("email", "").strip().lower()[:254]


def _login_account_key() -> str:
    return "login-account:" + _login_account()


def _login_account_and_ip_key() -> str:
    return f"login-account-ip:{request.remote_addr}:{_login_account()}"


def _failed_login(response) -> bool:
    return response.status_code == 422 and request.method == "POST" and not g.get("logged_in")


def _account_under_attack(_limit) -> None:
    """Someone keeps guessing at one account: tell the admin (the audit log, once an hour per
    account) and the logs; the owner can still log in from their own address."""
    from crm.auth.services import report_login_attack

    report_login_attack(_login_account(), request.remote_addr)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_IP"],
    key_func=_login_account_and_ip_key,
    methods=["POST"],
    deduct_when=_failed_login,
    on_breach=_account_under_attack,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed_login,
    on_breach=_account_under_attack,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed_login
)
def login():
    from crm.core.drafts import carried_draft

    draft = carried_draft()  # what the person was sending when the session ended
    if current_user.is_authenticated:
        if draft is not None:
            return render_template("auth/resubmit.html", draft=draft)
        return redirect(url_for("core.start"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = safe_next(request.args.get("next"))
            lang = session.get("lang")
            _clear_session()  # a fresh session at log-in; no fixation
            if lang:
                session["lang"] = lang
            login_user(user)
            session["login_at"] = session["seen_at"] = utcnow().isoformat()
            session.permanent = True
            db.session.commit()
            g.logged_in = True
            if draft is not None:
                return render_template("auth/resubmit.html", draft=draft)
            return redirect(next_url or url_for("core.start"))
        db.session.commit()  # keep the audit row of the failed attempt
        form.password.errors.append(_("Fel e-postadress eller lösenord."))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form, draft=draft), status


def _clear_session() -> None:
    session.clear()
    # Flask-WTF caches the request's CSRF token; that one belonged to the old session.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def login_again(message: str):
    """Send the person to log in. A form they were sending comes along as a draft: in the
    log-in form's hidden fields (never in the URL), back to them after they have logged in."""
    from crm.core.drafts import posted_draft

    flash(message, "info")
    draft = posted_draft()
    if draft is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return render_template("auth/login.html", form=LoginForm(formdata=None), draft=draft), 401


@bp.post("/logout")
@login_required
def logout():
    audit("logout", current_user, current_user)
    end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Du är utloggad."), "success")
    return redirect(url_for("auth.login"))


def enforce_session_timeouts():
    """Log out sessions idle too long or older than the absolute limit (before each request)."""
    if not current_user.is_authenticated:
        return None
    now = utcnow()
    config = current_app.config
    try:
        login_at = datetime.fromisoformat(session["login_at"])
        seen_at = datetime.fromisoformat(session["seen_at"])
    except (KeyError, TypeError, ValueError):
        login_at = seen_at = None
    expired = (
        login_at is None
        or now - seen_at > config["SESSION_IDLE_TIMEOUT"]
        or now - login_at > config["PERMANENT_SESSION_LIFETIME"]
    )
    if expired:
        logout_user()
        _clear_session()
        return login_again(_("Din session har gått ut. Logga in igen."))
    if now - seen_at > SEEN_AT_RESOLUTION:
        # Refresh at most once a minute: re-signing the cookie on every request costs time.
        session["seen_at"] = now.isoformat()
    return None


# ---- the user's own page: calendar feed address and password change --------------------


def _password_change_key() -> str:
    return f"password-change:{current_user.get_id()}"


def _wrong_current_password(response) -> bool:
    return request.method == "POST" and g.get("wrong_current_password", False)


@account_bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["PASSWORD_CHANGE_LIMIT"],
    key_func=_password_change_key,
    methods=["POST"],
    deduct_when=_wrong_current_password,
)
def profile():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current_password.data, form.new_password.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            if exc.field == "current_password":  # a guess: counted, and kept in the audit log
                g.wrong_current_password = True
                audit("password_change_failed", current_user, current_user)
                db.session.commit()
            show_domain_error(form, exc)
        else:
            login_user(current_user)  # this session goes on, with the new session version
            session["login_at"] = session["seen_at"] = utcnow().isoformat()
            flash(_("Lösenordet är bytt. Andra inloggningar har avslutats."), "success")
            return redirect(url_for("account.profile"))
    page = render_template(
        "auth/account.html", form=form, empty=FlaskForm(), link=session.pop("calendar_link", None)
    )
    return page, 422 if form.is_submitted() else 200


@account_bp.post("/account/calendar")
@login_required
def new_calendar_link():
    token = issue_calendar_token(current_user)
    audit("calendar_link_created", current_user, current_user)
    db.session.commit()
    session["calendar_link"] = external_url("account.calendar_feed", token=token)
    return redirect(url_for("account.profile"))


@account_bp.post("/account/calendar/revoke")
@login_required
def revoke_calendar_link():
    revoke_calendar_token(current_user)
    audit("calendar_link_revoked", current_user, current_user)
    db.session.commit()
    session.pop("calendar_link", None)
    flash(_("Kalenderlänken är borttagen och fungerar inte längre."), "success")
    return redirect(url_for("account.profile"))


@account_bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    keep_private("no-referrer")  # a feed has no forms
    user = user_for_calendar_token(token)
    if user is None:
        abort(404)
    return calendar_for(user), 200, {"Content-Type": "text/calendar; charset=utf-8"}


# ---- user administration ----------------------------------------------------------------


@users_bp.get("")
@permission_required(Permission.USER_MANAGE)
def index():
    return render_template("auth/users.html", users=all_users())
