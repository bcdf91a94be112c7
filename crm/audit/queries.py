"""Reading the audit log: newest first, filtered by action, person and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from crm.audit.models import AuditLog
from crm.extensions import db
from crm.validation import clean_line, database_id

PAGE_SIZE = 100


@dataclass
class AuditFilters:
    """The page's filters, parsed from the query string; unknown values are ignored."""

    action: str = ""
    actor: int | None = None
    day: date | None = None
    before: int | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        actor = (args.get("actor") or "").strip()
        before = (args.get("before") or "").strip()
        return cls(
            action=clean_line(args.get("action"))[:60],
            actor=database_id(actor),
            day=_day(args.get("date")),
            before=database_id(before),
        )

    def as_args(self) -> dict:
        """The filters as the form shows them (the page cursor is not a filter)."""
        return {
            "action": self.action,
            "actor": str(self.actor) if self.actor else "",
            "date": self.day.isoformat() if self.day else "",
        }


def _day(value: str | None) -> date | None:
    try:
        return datetime.strptime((value or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None


def audit_page(filters: AuditFilters) -> tuple[list[AuditLog], int | None]:
    """One page of entries, newest first, and the cursor of the next page (None at the end)."""
    query = select(AuditLog)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.actor:
        query = query.where(AuditLog.actor_id == filters.actor)
    if filters.day:
        start = datetime(filters.day.year, filters.day.month, filters.day.day, tzinfo=UTC)
        query = query.where(
            AuditLog.created_at >= start, AuditLog.created_at < start + timedelta(days=1)
        )
    if filters.before:
        query = query.where(AuditLog.id < filters.before)
    rows = list(db.session.scalars(query.order_by(AuditLog.id.desc()).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, rows[-1].id if more and rows else None


def recorded_actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
