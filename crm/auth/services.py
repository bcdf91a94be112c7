"""Users: creation, authentication and session invalidation."""

from __future__ import annotations

import logging

from email_validator import EmailNotValidError
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from crm.audit.services import audit
from crm.auth.models import PasswordLink, User
from crm.auth.passwords import hash_password, password_problems, verify_password
from crm.auth.permissions import Role
from crm.errors import DomainError
from crm.extensions import db
from crm.timeutil import utcnow
from crm.validation import clean_text, normalise_email

log = logging.getLogger(__name__)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, name: str, role: str, password: str, actor=None) -> User:
    """Add a staff user with a password (the command line) after checking it against the
    password policy; the admin's page invites instead (`crm.auth.accounts.invite_user`)."""
    problems = password_problems(password, email, name)
    if problems:
        raise DomainError(" ".join(problems), field="password")
    user = new_user(email, name, role, password_hash=hash_password(password))
    audit("user_created", actor, user, role=user.role.value)
    return user


def new_user(email: str, name: str, role: str, password_hash: str) -> User:
    """A staff user after checking e-mail (unique), name and role."""
    try:
        email = normalise_email(email)
    except EmailNotValidError:
        raise DomainError(_("Ange en giltig e-postadress."), field="email") from None
    name = clean_text(name)
    if not name:
        raise DomainError(_("Ange ett namn."), field="name")
    if len(name) > 120:
        raise DomainError(_("Namnet får ha högst 120 tecken."), field="name")
    try:
        role = Role(role)
    except ValueError:
        known = ", ".join(member.value for member in Role)
        raise DomainError(
            _("Okänd roll ”%(role)s”. Välj en av: %(known)s.", role=role, known=known),
            field="role",
        ) from None
    if find_user_by_email(email) is not None:
        raise DomainError(_("Det finns redan en användare med den e-postadressen."), field="email")
    user = User(email=email, name=name, role=role, password_hash=password_hash)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None; every attempt is audited.
    Only the first step: `record_login` marks the log-in complete."""
    user = find_user_by_email(email) if email else None
    if user is None or not user.active or user.invited:
        # Hash anyway so that a missing account takes as long as a wrong password.
        verify_password(_dummy_hash(), password)
        audit("login_failed", None, None, reason="unknown_or_inactive")
        log.warning("login_failed reason=unknown_or_inactive ip=%s", _ip())
        return None
    ok, new_hash = verify_password(user.password_hash, password)
    if not ok:
        audit("login_failed", user, user, reason="wrong_password")
        log.warning("login_failed user=%s reason=wrong_password ip=%s", user.id, _ip())
        return None
    if new_hash:
        user.password_hash = new_hash
    return user


def record_login(user: User) -> None:
    """The log-in is complete (password, and the code when the user has two-factor log-in)."""
    user.last_login_at = utcnow()
    audit("login_succeeded", user, user)
    log.info("login_succeeded user=%s ip=%s", user.id, _ip())


def _ip() -> str | None:
    from flask import has_request_context, request

    return request.remote_addr if has_request_context() else None


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    from flask import current_app

    profile = current_app.config.get("ARGON2_PROFILE", "default")
    if profile not in _DUMMY_HASHES:
        _DUMMY_HASHES[profile] = hash_password("not-a-real-password-at-all")
    return _DUMMY_HASHES[profile]


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie issued to the user (log-out, password change)."""
    user.session_version += 1


def change_password(user: User, current: str, new: str) -> None:
    """The user's own password change: the current one first (ASVS 3.7.1), then the policy.
    Every other session of theirs ends."""
    ok, _rehash = verify_password(user.password_hash, current)
    if not ok:
        raise DomainError(_("Fel lösenord."), field="current_password")
    problems = password_problems(new, user.email, user.name)
    if problems:
        raise DomainError(" ".join(problems), field="new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    # A reset or invitation link still outstanding would undo this change.
    db.session.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id))
    audit("password_changed", user, user)
    db.session.flush()


def report_login_attack(account: str, ip: str | None) -> None:
    """Failed log-ins for one account passed a limit: one audit entry (and a warning in the
    log) per account and hour, however long the guessing goes on."""
    from flask import current_app
    from limits import parse

    from crm.extensions import limiter

    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")  # as Flask-Limiter's own keys have
    if not limiter.limiter.hit(parse("1 per hour"), prefix, "login-attack-alert", account):
        return
    # The address stays out of the log (ASVS 7.1.2); the audit log, which only admins read,
    # names the account.
    log.warning("login_attack_suspected ip=%s", ip)
    audit("login_attack_suspected", None, None, actor_label=account, ip_seen=ip)
    db.session.commit()
