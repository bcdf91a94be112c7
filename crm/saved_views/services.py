"""The rules for saved views. Services change state and flush; the caller commits.

Only people who work on inquiries (inquiry:edit) save views: a personal view for themselves, a
shared one for everybody who may see the list (the board too). The board reads shared views
but saves none: a shared view is something the officers curate, and the board's own filters
are one link away in the address bar.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from crm.audit.services import audit
from crm.auth.permissions import Permission
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.inquiries.queries import InquiryFilters
from crm.saved_views.models import NAME_MAX, SavedView
from crm.saved_views.queries import views_for
from crm.validation import clean_line, has_hidden_characters


def _require_may_save(actor) -> None:
    if actor is None or not actor.can(Permission.INQUIRY_EDIT):
        raise NotPermitted(_("Du har inte behörighet att spara vyer."))


def stored_args(filters: InquiryFilters) -> dict[str, str]:
    """The filters as they are stored: `as_args()` with every value a string."""
    return {key: str(value) for key, value in filters.as_args().items()}


def save_view(name: str, filters: InquiryFilters, shared: bool, actor) -> SavedView:
    """Name the list's current filters and sort, for the actor or for everyone."""
    _require_may_save(actor)
    name = clean_line(name)
    if not name:
        raise DomainError(_("Ge vyn ett namn."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("Högst %(max)d tecken.", max=NAME_MAX), field="name")
    # As for tag names: a shared view's name is shown to everyone, and an invisible or
    # direction-changing character would let it pass for another view.
    if has_hidden_characters(name):
        raise DomainError(_("Namnet innehåller otillåtna tecken."), field="name")
    if any(view.name.casefold() == name.casefold() for view in views_for(actor)):
        raise DomainError(_("Det finns redan en vy med det namnet."), field="name")
    view = SavedView(name=name, owner_id=actor.id, shared=shared, args=stored_args(filters))
    db.session.add(view)
    db.session.flush()
    audit("saved_view_created", actor, view, name=name, shared=shared, args=filters.audited_args())
    return view


def may_delete(view: SavedView, actor) -> bool:
    """Your own views; a shared view by anyone who may save shared views."""
    if actor is None or not actor.can(Permission.INQUIRY_EDIT):
        return False
    return view.shared or view.owner_id == actor.id


def delete_view(view: SavedView, actor) -> None:
    """Remove the view (the inquiries are untouched)."""
    if not may_delete(view, actor):
        raise NotPermitted(_("Du kan bara ta bort dina egna vyer och delade vyer."))
    audit("saved_view_deleted", actor, view, name=view.name, shared=view.shared)
    db.session.delete(view)
    db.session.flush()


def follow_tag(old_key: str, new_name: str) -> int:
    """Views that filter on the tag with this folded name now filter on `new_name` (the tag
    was renamed or merged into another), so they do not go silently empty; returns how many."""
    from crm.tags.services import fold

    changed = 0
    for view in db.session.scalars(select(SavedView)):
        tag = view.args.get("tag") if isinstance(view.args, dict) else None
        if isinstance(tag, str) and fold(tag) == old_key:
            view.args = {**view.args, "tag": new_name}  # a new dict: JSON is not tracked in place
            changed += 1
    db.session.flush()
    return changed
