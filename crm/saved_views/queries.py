"""Read-only queries for saved views."""

from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select

from crm.extensions import db
from crm.saved_views.models import SavedView


def views_for(user) -> list[SavedView]:
    """The user's own views and every shared view, by name (one statement)."""
    return list(
        db.session.scalars(
            select(SavedView)
            .where(or_(SavedView.shared.is_(True), SavedView.owner_id == user.id))
            .order_by(SavedView.name, SavedView.id)
        )
    )


def get_view_or_404(view_id: int, user) -> SavedView:
    """A view the user may see: someone else's personal view does not exist for them."""
    view = db.session.get(SavedView, view_id)
    if view is None or not (view.shared or view.owner_id == user.id):
        abort(404)
    return view


def filters_of(view: SavedView):
    """The view's filters, parsed again as the list parses its query string: whatever is
    stored, only values the list accepts today come out."""
    from crm.inquiries.queries import InquiryFilters

    stored = view.args if isinstance(view.args, dict) else {}
    args = {str(k): str(v) for k, v in stored.items() if isinstance(v, str | int)}
    return InquiryFilters.from_args(args)
