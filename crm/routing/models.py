from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.choices import Addressee, Category, OrganisationType
from crm.dbtypes import enum_column
from crm.extensions import db
from crm.partners.models import Organisation
from crm.timeutil import UTCDateTime, utcnow


class RoutingRule(db.Model):
    """If every condition that is set matches an inquiry, it goes to `target_user`.

    Rules are tried in `position` order and the first match wins.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(120))
    addressee: Mapped[Addressee | None] = mapped_column(enum_column(Addressee))
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    organisation_type: Mapped[OrganisationType | None] = mapped_column(
        enum_column(OrganisationType)
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    target_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    target_user: Mapped[User] = relationship()
