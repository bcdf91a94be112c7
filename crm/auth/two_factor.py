"""Two-factor log-in: a time-based one-time code (TOTP, RFC 6238) from the person's
authenticator app, or one of ten single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import delete, func, select, update

from crm.audit.services import audit
from crm.auth.models import RecoveryCode, TwoFactorRole, User
from crm.auth.passwords import verify_password
from crm.auth.permissions import Role
from crm.errors import DomainError
from crm.extensions import db
from crm.timeutil import utcnow

ISSUER = "Samverka"
RECOVERY_CODES = 10
# Codes from the step before and after now are taken too: a phone's clock a little off, or a
# code typed as it changed.
DRIFT_STEPS = 1


def is_enrolled(user: User) -> bool:
    return user.totp_secret is not None


def required_roles() -> tuple[frozenset[Role], frozenset[Role]]:
    """The roles that must use two-factor: those the setting names (fixed for the deployment)
    and those the admin chose on the users page."""
    configured = frozenset(Role(name) for name in current_app.config["TWO_FACTOR_REQUIRED_ROLES"])
    chosen = frozenset(Role(role) for role in db.session.scalars(select(TwoFactorRole.role)))
    return configured, chosen


def is_required(user: User) -> bool:
    configured, chosen = required_roles()
    return Role(user.role) in configured | chosen


def must_enrol(user: User) -> bool:
    """Read at log-in (one statement) and kept in the session, not on every request."""
    return not is_enrolled(user) and is_required(user)


def require_for_roles(roles, actor) -> None:
    """The admin's choice of roles that must use two-factor. Anyone in a newly required role
    without it is logged out, so their next log-in leads them to set it up."""
    wanted = frozenset(Role(role) for role in roles)
    configured, before = required_roles()
    db.session.execute(delete(TwoFactorRole))
    db.session.add_all(TwoFactorRole(role=role) for role in sorted(wanted - configured))
    newly = wanted - before - configured
    if newly:
        for user in db.session.scalars(
            select(User).where(User.role.in_(newly), User.totp_secret.is_(None), User.active)
        ):
            user.session_version += 1
    audit("two_factor_policy_changed", actor, None,
          roles=sorted(role.value for role in wanted | configured))  # fmt: skip
    db.session.flush()


# ---- enrolment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: Markup


def new_enrolment(user: User, secret: str | None = None) -> Enrolment:
    """A secret to scan (kept by the caller until a code confirms it): its otpauth:// URI and
    that URI as an SVG QR code, drawn here so the page needs no script or image service."""
    secret = secret or pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1a1a1a", light="#ffffff")
    return Enrolment(secret, uri, Markup(svg))  # noqa: S704 (segno's own SVG, no user text)


def confirm_enrolment(user: User, secret: str, code: str) -> list[str]:
    """The first code from the app proves it holds the secret: two-factor is on. Returns the
    recovery codes, to be shown once."""
    step = _matching_step(secret, code, after=0)
    if step is None:
        raise DomainError(
            _("Koden stämmer inte. Skriv den sex siffror långa koden som appen visar nu."),
            field="code",
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit("two_factor_enabled", user, user)
    db.session.flush()
    return codes


def disable(user: User, password: str, code: str) -> None:
    """The person turns two-factor off: only with their password and a code again, and never
    where their role requires it."""
    if is_required(user):
        raise DomainError(_("Din roll kräver tvåstegsverifiering."))
    ok, _rehash = verify_password(user.password_hash, password)
    if not ok:
        raise DomainError(_("Fel lösenord."), field="password")
    if not verify(user, code):
        raise DomainError(_("Koden stämmer inte."), field="code")
    _clear(user)
    audit("two_factor_disabled", user, user)
    db.session.flush()


def reset_by_admin(user: User, actor) -> None:
    """The person lost their phone and their recovery codes: the admin clears the second
    factor; where the role requires one, the person enrols again at their next log-in."""
    _clear(user)
    user.session_version += 1  # whoever has the phone has no session left either
    audit("two_factor_reset", actor, user)
    db.session.flush()


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = 0
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


# ---- log-in ---------------------------------------------------------------------------------


def verify(user: User, code: str, now: float | None = None) -> bool:
    """A current code (never one already used: its time step must be later than the last
    accepted one) or an unused recovery code, which is then used up."""
    if not is_enrolled(user):
        return False
    cleaned = "".join((code or "").split()).replace("-", "").lower()
    if not cleaned.isascii():
        return False
    if cleaned.isdigit() and len(cleaned) == 6:
        step = _matching_step(user.totp_secret, cleaned, after=user.totp_last_step, now=now)
        return step is not None and _take_step(user, step)
    return _use_recovery_code(user, cleaned)


def _take_step(user: User, step: int) -> bool:
    """Record the accepted step, unless a concurrent request took this step (or a later one)
    first: then this copy of the code is a replay."""
    taken = db.session.execute(
        update(User)
        .where(User.id == user.id, User.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def _matching_step(secret: str, code: str, after: int, now: float | None = None) -> int | None:
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(_moment(now))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > after and secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _moment(now: float | None):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(now if now is not None else time.time(), tz=UTC)


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _recovery_code() -> str:
    """Ten characters from an alphabet without look-alikes: about 50 random bits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _use_recovery_code(user: User, cleaned: str) -> bool:
    if len(cleaned) != 10:
        return False
    found = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(cleaned)
        )
    )
    if found is None:
        return False
    used = db.session.execute(delete(RecoveryCode).where(RecoveryCode.id == found.id))
    if used.rowcount != 1:
        return False  # a concurrent request used it first
    db.session.expunge(found)
    left = db.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.id != found.id)
    )
    audit("recovery_code_used", user, user, left=left)
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).where(RecoveryCode.user_id == user.id))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()
