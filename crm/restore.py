"""What a restored database needs before the app and the senders start again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from crm.audit.services import audit
from crm.extensions import db
from crm.inquiries.intake import reserve_references
from crm.mail.services import hold_unsent
from crm.timeutil import UTCDateTime, utcnow

# The columns that say when a row was written; the newest of them is the recovery point.
WRITTEN_AT = ("created_at", "updated_at", "sent_at")


@dataclass(frozen=True)
class RestoreReport:
    recovery_point: datetime | None
    held: int
    counters: dict[int, tuple[int, int]]


def recovery_point() -> datetime | None:
    """The newest moment any row in the database was written: everything the app did after
    it is not in the backup (one statement over every table's write-time columns)."""
    columns = [
        column
        for table in db.metadata.sorted_tables
        for column in table.columns
        if column.name in WRITTEN_AT and isinstance(column.type, UTCDateTime)
    ]
    newest = db.session.execute(
        select(*(select(func.max(column)).scalar_subquery() for column in columns))
    ).one()
    moments = [moment for moment in newest if moment is not None]
    return max(moments) if moments else None


def after_restore(reserve: int) -> RestoreReport:
    """Hold unsent mail for the admin and move reference counters past issued numbers."""
    point = recovery_point()
    held = hold_unsent()
    counters = reserve_references(reserve, utcnow().year)
    audit(
        "after_restore", None, actor_label="flask crm after-restore", held=held,
        reserve=reserve, recovery_point=point.isoformat() if point else None,
    )  # fmt: skip
    db.session.flush()
    return RestoreReport(point, held, counters)
