"""Staff accounts over their life: invited by the admin, a password set through a one-time
link, a role changed, deactivated and reactivated; and a forgotten password reset."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select

from crm.audit.services import audit
from crm.auth.models import NO_PASSWORD, LinkPurpose, PasswordLink, User
from crm.auth.passwords import hash_password, password_problems
from crm.auth.permissions import Role
from crm.auth.services import end_all_sessions, find_user_by_email, new_user
from crm.errors import DomainError
from crm.extensions import db
from crm.timeutil import utcnow
from crm.tokens import hash_token, new_token, plausible

LINK_LIFETIME = {LinkPurpose.INVITATION: timedelta(hours=72), LinkPurpose.RESET: timedelta(hours=1)}
MAIL_KIND = {LinkPurpose.INVITATION: "invitation", LinkPurpose.RESET: "password_reset"}


# ---- the admin's work ---------------------------------------------------------------------


def invite_user(email: str, name: str, role: str, actor) -> User:
    """A new staff account without a password; its owner chooses one through the invitation
    mailed to them."""
    user = new_user(email, name, role, password_hash=NO_PASSWORD + new_token())
    audit("user_invited", actor, user, role=user.role.value)
    _send_link(user, LinkPurpose.INVITATION, invited_by=actor)
    return user


def resend_invitation(user: User, actor) -> None:
    """A new invitation; the earlier link stops working."""
    if not user.invited:
        raise DomainError(_("Användaren har redan valt ett lösenord."))
    if not user.active:
        raise DomainError(_("Användaren är avstängd. Aktivera kontot först."))
    _send_link(user, LinkPurpose.INVITATION, invited_by=actor)
    audit("invitation_resent", actor, user)


def change_role(user: User, role: str, actor) -> None:
    try:
        new = Role(role)
    except ValueError:
        raise DomainError(_("Välj en roll."), field="role") from None
    old = Role(user.role)
    if new is old:
        return
    if old is Role.ADMIN:
        _keep_an_admin(user, _("Det måste finnas minst en aktiv administratör."))
    user.role = new
    end_all_sessions(user)  # a session keeps no permission the person no longer has
    audit("user_role_changed", actor, user, old=old.value, new=new.value)
    db.session.flush()


def deactivate_user(user: User, actor) -> None:
    """The person can no longer log in; every session of theirs ends now. Their history
    (inquiries, notes, the audit log) stays under their name."""
    if not user.active:
        return
    if Role(user.role) is Role.ADMIN:
        _keep_an_admin(user, _("Den sista aktiva administratören kan inte stängas av."))
    user.active = False
    end_all_sessions(user)
    _end_links(user)
    audit("user_deactivated", actor, user)
    db.session.flush()


def reactivate_user(user: User, actor) -> None:
    if user.active:
        return
    user.active = True
    audit("user_reactivated", actor, user)
    db.session.flush()


def _keep_an_admin(user: User, message: str) -> None:
    """Two admins demoting each other at the same moment must not both succeed: the active
    admins' rows are locked (PostgreSQL; SQLite's write lock already serialises requests)."""
    admins = select(User.id).where(User.role == Role.ADMIN, User.active)
    if db.engine.dialect.name == "postgresql":
        admins = admins.with_for_update()
    others = [admin for admin in db.session.scalars(admins) if admin != user.id]
    if not others:
        raise DomainError(message)


# ---- the owner's links ---------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """A reset link for the active account with this address; nothing (and no sign of it) for
    any other address, so the page cannot tell who has an account."""
    user = find_user_by_email(email) if email else None
    if user is None or not user.active:
        audit("password_reset_requested", None, None, known=False)
        return
    _send_link(user, LinkPurpose.RESET)
    audit("password_reset_requested", user, user, known=True)


def user_for_link(token: str | None, now: datetime | None = None) -> User | None:
    """The active user a valid (unexpired, unused, newest) link belongs to, or None."""
    link = _link(token, now)
    if link is None:
        return None
    user = db.session.get(User, link.user_id)
    return user if user is not None and user.active else None


def set_password_with_link(token: str, password: str, now: datetime | None = None) -> User:
    """The link's owner chooses a password: the link is used up, every other link ends, and
    every session of theirs ends (someone who had it can no longer use it)."""
    link = _link(token, now)
    user = db.session.get(User, link.user_id) if link is not None else None
    if user is None or not user.active:
        raise DomainError(_("Länken gäller inte längre. Be om en ny."))
    problems = password_problems(password, user.email, user.name)
    if problems:
        raise DomainError(" ".join(problems), field="password")
    first = user.invited
    user.password_hash = hash_password(password)
    user.password_changed_at = now or utcnow()
    end_all_sessions(user)
    _end_links(user)
    audit("password_set" if first else "password_reset", user, user, via=link.purpose.value)
    db.session.flush()
    return user


def _send_link(user: User, purpose: LinkPurpose, invited_by=None) -> str:
    from crm.core.urls import external_url
    from crm.mail.services import queue_mail

    _end_links(user)  # only the newest link works
    token = new_token()
    now = utcnow()
    db.session.add(PasswordLink(
        user_id=user.id, purpose=purpose, token_hash=hash_token(token), created_at=now,
        expires_at=now + LINK_LIFETIME[purpose],
    ))  # fmt: skip
    queue_mail(
        MAIL_KIND[purpose], user.email, f"password_{purpose.value}", user=user,
        invited_by=invited_by,
        link=external_url("auth.set_password", token=token),
        hours=int(LINK_LIFETIME[purpose].total_seconds() // 3600),
    )  # fmt: skip
    db.session.flush()
    return token


def _end_links(user: User) -> None:
    db.session.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id))


def _link(token: str | None, now: datetime | None = None) -> PasswordLink | None:
    if not plausible(token):
        return None
    link = db.session.scalar(
        select(PasswordLink).where(PasswordLink.token_hash == hash_token(token))
    )
    if link is None or link.expires_at <= (now or utcnow()):
        return None
    return link
