"""Read-only queries about staff users."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.auth.models import User
from crm.auth.permissions import ASSIGNABLE_ROLES
from crm.extensions import db


def assignable_users() -> list[User]:
    """Who inquiries, follow-ups and routing rules can be given to: active council officers."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES))
            .order_by(User.name)
        )
    )


def user_by_id(value) -> User | None:
    """The user picked in a form's select (the form has already checked it is a candidate)."""
    return db.session.get(User, int(value))


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.name, User.id)))


def active_user_with_email(address: str | None) -> User | None:
    """The active staff member with this e-mail address (case does not matter), if any."""
    if not address:
        return None
    return db.session.scalar(
        select(User).where(func.lower(User.email) == address.strip().lower(), User.active)
    )
