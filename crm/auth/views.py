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
from crm.auth import accounts, two_factor
from crm.auth.forms import (
    DisableTwoFactorForm,
    EnrolTwoFactorForm,
    ForgotPasswordForm,
    InviteUserForm,
    LoginForm,
    PasswordChangeForm,
    RoleForm,
    SecondFactorForm,
    SetPasswordForm,
    TwoFactorPolicyForm,
)
from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import all_users, user_by_id
from crm.auth.services import authenticate, change_password, end_all_sessions, record_login
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.core.urls import external_url, safe_next
from crm.errors import DomainError
from crm.extensions import db, limiter
from crm.security import keep_private
from crm.timeutil import utcnow
from crm.tokens import hash_token
from crm.validation import clean_line

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
            g.logged_in = True
            if two_factor.is_enrolled(user):
                audit("login_password_ok", user, user)  # half-way: the code follows
                _await_second_factor(user, next_url)
                db.session.commit()
                return redirect(url_for("auth.second_factor"))
            _begin_session(user)
            db.session.commit()
            if draft is not None:
                return render_template("auth/resubmit.html", draft=draft)
            return redirect(next_url or url_for("core.start"))
        db.session.commit()  # keep the audit row of the failed attempt
        form.password.errors.append(_("Fel e-postadress eller lösenord."))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form, draft=draft), status


def _fresh_session() -> None:
    """A new session at each log-in step (no fixation), keeping only the language."""
    lang = session.get("lang")
    _clear_session()
    if lang:
        session["lang"] = lang


def _begin_session(user) -> None:
    record_login(user)
    _fresh_session()
    login_user(user)
    session["login_at"] = session["seen_at"] = utcnow().isoformat()
    session.permanent = True
    if two_factor.must_enrol(user):
        session["must_enrol"] = True


# The password was right; the code must follow within this time.
SECOND_FACTOR_WINDOW = timedelta(minutes=5)


def _await_second_factor(user, next_url: str | None) -> None:
    _fresh_session()
    session["second_factor"] = {
        "user": user.get_id(), "since": utcnow().isoformat(), "next": next_url,
    }  # fmt: skip


def _awaiting_second_factor():
    """The user whose password was right a moment ago, or None."""
    from crm.auth.loader import load_user

    pending = session.get("second_factor")
    if not pending:
        return None
    since = datetime.fromisoformat(pending["since"])
    if utcnow() - since > SECOND_FACTOR_WINDOW:
        session.pop("second_factor", None)
        return None
    return load_user(pending["user"])


def _second_factor_key() -> str:
    pending = session.get("second_factor") or {}
    return "second-factor:" + str(pending.get("user", "")).split(":")[0]


def _wrong_code(response) -> bool:
    return request.method == "POST" and response.status_code == 422


@bp.route("/login/kod", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["TWO_FACTOR_LIMIT"],
    key_func=_second_factor_key,
    methods=["POST"],
    deduct_when=_wrong_code,
)
def second_factor():
    user = _awaiting_second_factor()
    if user is None:
        flash(_("Logga in igen."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        if two_factor.verify(user, form.code.data):
            next_url = session["second_factor"].get("next")
            audit("login_second_factor_ok", user, user)
            _begin_session(user)
            db.session.commit()
            return redirect(next_url or url_for("core.start"))
        audit("login_second_factor_failed", user, user)
        db.session.commit()
        form.code.errors.append(_("Koden stämmer inte."))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/second_factor.html", form=form), status


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


# What a person who must enrol in two-factor can still reach before they have.
ENROLMENT_ALLOWED = {"account.two_factor_page", "auth.logout", "static", "core.set_language"}


def enforce_two_factor():
    """A role that requires two-factor gets nothing but the enrolment page until it is set up
    (before each request). Whether it must was decided at log-in and kept in the session, so
    other requests pay nothing for it."""
    if not session.get("must_enrol") or request.endpoint in ENROLMENT_ALLOWED:
        return None
    if not current_user.is_authenticated or two_factor.is_enrolled(current_user):
        session.pop("must_enrol", None)
        return None
    flash(_("Din roll kräver tvåstegsverifiering. Ställ in den för att fortsätta."), "info")
    return redirect(url_for("account.two_factor_page"))


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
    # One budget per account for every "prove it is you" form (the password change here and
    # turning two-factor off), so an attacker cannot guess at one form then at the other.
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


@account_bp.route("/account/tvastegsverifiering", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["PASSWORD_CHANGE_LIMIT"],
    key_func=_password_change_key,
    methods=["POST"],
    deduct_when=_wrong_current_password,
)
def two_factor_page():
    """Set up two-factor: scan the QR code, confirm with a code, keep the recovery codes (shown
    once); or, with password and a code, turn it off where the role allows."""
    keep_private()
    if two_factor.is_enrolled(current_user):
        return _two_factor_settings()
    secret = session.get("totp_enrolment") or two_factor.new_enrolment(current_user).secret
    session["totp_enrolment"] = secret
    enrolment = two_factor.new_enrolment(current_user, secret)
    form = EnrolTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(current_user, secret, form.code.data)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            session.pop("totp_enrolment", None)
            session.pop("must_enrol", None)
            return render_template("auth/recovery_codes.html", codes=codes)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/two_factor_enrol.html", form=form, enrolment=enrolment), status


def _two_factor_settings():
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.disable(current_user, form.password.data, form.code.data)
        except DomainError as exc:
            db.session.rollback()
            if exc.field in ("password", "code"):  # a guess: counted; one answer for both
                g.wrong_current_password = True
                form.password.errors.append(_("Lösenordet eller koden stämmer inte."))
            else:
                show_domain_error(form, exc)
            audit("two_factor_disable_failed", current_user, current_user, field=exc.field)
            db.session.commit()
        else:
            db.session.commit()
            flash(_("Tvåstegsverifieringen är avstängd."), "success")
            return redirect(url_for("account.profile"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "auth/two_factor_settings.html", form=form,
        required=two_factor.is_required(current_user),
        codes_left=two_factor.recovery_codes_left(current_user),
    ), status  # fmt: skip


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
    return _users_page()


def _users_page(policy_form=None, status: int = 200):
    configured, chosen = two_factor.required_roles()
    form = policy_form or TwoFactorPolicyForm(
        formdata=None, data={"roles": [role.value for role in configured | chosen]}
    )
    return render_template(
        "auth/users.html", users=all_users(), policy_form=form,
        configured_roles={role.value for role in configured},
    ), status  # fmt: skip


@users_bp.post("/two-factor-policy")
@permission_required(Permission.USER_MANAGE)
@once()
def two_factor_policy():
    form = TwoFactorPolicyForm()
    if not form.validate_on_submit():
        return _users_page(form, 422)
    two_factor.require_for_roles(form.roles.data or [], current_user)
    target = url_for("users.index")
    remember_result(target)
    db.session.commit()
    flash(_("Kraven på tvåstegsverifiering är sparade. Den som nu måste ha det men saknar det "
            "loggas ut och ställer in det vid nästa inloggning."), "success")  # fmt: skip
    return redirect(target)


@users_bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.USER_MANAGE)
@once()
def new():
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.invite_user(
                form.email.data, form.name.data, form.role.data, current_user
            )
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            target = url_for("users.detail", user_id=user.id)
            remember_result(target)
            db.session.commit()
            flash(_("%(name)s är inbjuden. En länk för att välja lösenord är skickad till "
                    "%(email)s.", name=user.name, email=user.email), "success")  # fmt: skip
            return redirect(target)
    return render_template("auth/user_new.html", form=form), 422 if form.is_submitted() else 200


@users_bp.get("/<int:user_id>")
@permission_required(Permission.USER_MANAGE)
def detail(user_id: int):
    return _user_page(_user_or_404(user_id))


def _user_page(user, role_form=None, status: int = 200):
    from crm.inquiries.queries import open_inquiries_assigned_to

    return render_template(
        "auth/user.html", user=user,
        role_form=role_form or RoleForm(formdata=None, data={"role": user.role.value}),
        open_inquiries=open_inquiries_assigned_to(user),
    ), status  # fmt: skip


def _user_or_404(user_id: int):
    user = user_by_id(user_id)
    if user is None:
        abort(404)
    return user


def _account_action(user_id: int, action, done: str):
    """Run an action on an account from a button; a refusal is shown on the user's page."""
    user = _user_or_404(user_id)
    target = url_for("users.detail", user_id=user_id)
    try:
        action(user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target)
    remember_result(target)
    db.session.commit()
    flash(done, "success")
    return redirect(target)


@users_bp.post("/<int:user_id>/role")
@permission_required(Permission.USER_MANAGE)
@once()
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_page(_user_or_404(user_id), form, 422)
    return _account_action(
        user_id, lambda user: accounts.change_role(user, form.role.data, current_user),
        _("Rollen är ändrad. Användarens inloggningar har avslutats."),
    )  # fmt: skip


@users_bp.post("/<int:user_id>/deactivate")
@permission_required(Permission.USER_MANAGE)
@once()
def deactivate(user_id: int):
    return _account_action(
        user_id, lambda user: accounts.deactivate_user(user, current_user),
        _("Kontot är avstängt och alla dess inloggningar är avslutade."),
    )  # fmt: skip


@users_bp.post("/<int:user_id>/reactivate")
@permission_required(Permission.USER_MANAGE)
@once()
def reactivate(user_id: int):
    return _account_action(
        user_id, lambda user: accounts.reactivate_user(user, current_user),
        _("Kontot är aktivt igen."),
    )  # fmt: skip


@users_bp.post("/<int:user_id>/invitation")
@permission_required(Permission.USER_MANAGE)
@once()
def resend_invitation(user_id: int):
    return _account_action(
        user_id, lambda user: accounts.resend_invitation(user, current_user),
        _("En ny inbjudan är skickad. Den tidigare länken gäller inte längre."),
    )  # fmt: skip


@users_bp.post("/<int:user_id>/two-factor/reset")
@permission_required(Permission.USER_MANAGE)
@once()
def reset_two_factor(user_id: int):
    return _account_action(
        user_id, lambda user: two_factor.reset_by_admin(user, current_user),
        _("Tvåstegsverifieringen är återställd. Personen ställer in den igen vid nästa "
          "inloggning om rollen kräver det."),
    )  # fmt: skip


# ---- a forgotten password, and choosing one through a link ------------------------------


def _reset_address_key() -> str:
    # As the lookup sees it: control characters and spacing do not make another address.
    return "password-reset:" + clean_line(request.form.get("email", "")).lower()[:254]


@bp.route("/glomt-losenord", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"],
    key_func=_reset_address_key,
    methods=["POST"],
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(_("Om adressen hör till ett konto i Samverka har vi skickat en länk för att "
                "välja nytt lösenord. Den gäller i en timme."), "success")  # fmt: skip
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/losenord/<token>", methods=["GET", "POST"])
def set_password(token: str):
    keep_private()  # the link is a secret: no Referer carries it elsewhere
    user = accounts.user_for_link(token)
    if user is None:
        if session.get("password_set_with") == hash_token(token):
            # a double click: the first click already used the link and set the password
            flash(_("Lösenordet är sparat. Logga in med det."), "success")
            return redirect(url_for("auth.login"))
        return render_template("auth/set_password.html", form=None, user=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password_with_link(token, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session["password_set_with"] = hash_token(token)
            flash(_("Lösenordet är sparat. Logga in med det."), "success")
            return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/set_password.html", form=form, user=user), status
