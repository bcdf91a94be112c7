"""Bulk actions (massåtgärder) on inquiries chosen in the list.

Each inquiry goes through the same service as on its own page (`change_status`, `assign`,
`tag_inquiry`), so the transition table, "who may be assigned" and jäv apply unchanged. A row
the rule refuses is reported by reference with the rule's reason; the others are changed. The
caller commits all of it at once.

Bulk acts on the inquiries as they are now, not on the version the list showed: the list
shows no version to compare with, and each service checks the current state itself (a row
whose status has moved on is refused by the transition table, not overwritten). A concurrent
save to the same row while the request runs still fails the whole request (the version column).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.errors import DomainError
from crm.extensions import db
from crm.inquiries import services
from crm.inquiries.models import ConflictDeclaration, Inquiry
from crm.inquiries.statuses import TRANSITIONS, Status
from crm.validation import MAX_ROW_ID

# The most inquiries one bulk request may name: a few list pages.
BULK_MAX = 200
# The statuses the table lets an inquiry move to, less spam: spam removes personal data at once
# and cannot be undone, so it is decided one inquiry at a time, on its page.
BULK_STATUSES = tuple(
    status
    for status in Status
    if status is not Status.SPAM and any(status in targets for targets in TRANSITIONS.values())
)


@dataclass
class BulkResult:
    """References changed, references that already were as asked, refusals with reasons."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    missing: int = 0


def selected_inquiries(ids) -> tuple[list[Inquiry], int]:
    """The inquiries with these ids in reference order (one statement for them and one for
    their jäv declarations), and how many ids named none."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return [], 0
    possible = [i for i in ids if 0 < i <= MAX_ROW_ID]
    found = list(
        db.session.scalars(
            select(Inquiry)
            .options(
                joinedload(Inquiry.assignee),
                selectinload(Inquiry.conflicts).joinedload(ConflictDeclaration.user),
            )
            .where(Inquiry.id.in_(possible))
            .order_by(Inquiry.reference)
        )
    )
    return found, len(ids) - len(found)


def _each(inquiries, missing: int, act) -> BulkResult:
    result = BulkResult(missing=missing)
    for inquiry in inquiries:
        try:
            changed = act(inquiry)
        except DomainError as exc:  # NotPermitted (jäv) and InvalidTransition included
            result.refused.append((inquiry.reference, exc.message))
            continue
        (result.changed if changed else result.unchanged).append(inquiry.reference)
    return result


def bulk_change_status(ids, new: Status, actor) -> BulkResult:
    """Move each chosen inquiry to `new` where the transition table allows it."""
    if new not in BULK_STATUSES:
        raise DomainError(_("Välj en av de tillåtna statusarna."), field="status")

    def act(inquiry):
        if inquiry.status is new:
            return False
        services.change_status(inquiry, new, actor)
        return True

    return _each(*selected_inquiries(ids), act)


def bulk_assign(ids, assignee, actor) -> BulkResult:
    """Make `assignee` responsible for each chosen inquiry they may be given."""

    def act(inquiry):
        already = inquiry.assignee_id == assignee.id
        services.assign(inquiry, assignee, actor)  # refuses jäv and non-officers either way
        return not already

    return _each(*selected_inquiries(ids), act)


def bulk_tag(ids, name: str, actor) -> BulkResult:
    """Put the tag on each chosen inquiry."""
    from crm.tags.services import tag_inquiry, tag_name

    # A bad name refuses the whole request; the tag itself is made by the first row tagged,
    # so a request refused on every row leaves no unused tag behind.
    tag_name(name, field="tag")
    return _each(
        *selected_inquiries(ids), lambda inquiry: tag_inquiry(inquiry, name, actor) is not None
    )
