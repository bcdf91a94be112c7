from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.extensions import db
from crm.timeutil import UTCDateTime, utcnow


class ClosureDay(db.Model):
    """A weekday the council's office is closed (e.g. a staff day); the clock does not count it.

    Swedish public holidays are not stored: they come from the `holidays` package.
    """

    __tablename__ = "closure_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    # `day`, not `date`: DATE is a reserved word in SQL.
    day: Mapped[date] = mapped_column(Date, unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    # Who added it; the audit log keeps the name should the user ever be removed.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by: Mapped[User | None] = relationship()
