from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.auth.permissions import Permission, Role, role_can
from crm.choices import Choice, labelled
from crm.dbtypes import enum_column
from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped at log-out and password change so that old session cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-factor log-in (TOTP, RFC 6238): the shared secret once enrolment is confirmed, and
    # the last time step a code was accepted for, so no code is taken twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int] = mapped_column(default=0, server_default="0")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def invited(self) -> bool:
        """Invited, and has not yet set a password (the hash is no argon2 hash then)."""
        return self.password_hash.startswith(NO_PASSWORD)

    def can(self, permission: Permission) -> bool:
        return self.active and role_can(self.role, permission)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


# The password hash of an invited user who has not chosen a password: matches no password.
NO_PASSWORD = "!"  # noqa: S105 (a marker, no password)


@labelled({"invitation": _l("Inbjudan"), "reset": _l("Nytt lösenord")})
class LinkPurpose(Choice):
    INVITATION = "invitation"
    RESET = "reset"


class PasswordLink(db.Model):
    """A one-time link to set one's password: an invitation (72 h) or a reset (1 h). Only the
    hash of its token is stored; a newer link, a used one, or a password change ends it."""

    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_column(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecoveryCode(db.Model):
    """One of ten single-use codes for logging in without the authenticator; only a hash is
    kept, and a used code is deleted."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)


class TwoFactorRole(db.Model):
    """A role the admin requires two-factor log-in of (besides TWO_FACTOR_REQUIRED_ROLES)."""

    __tablename__ = "two_factor_roles"

    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)
