from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.core.urls import safe_next
from crm.errors import DomainError
from crm.extensions import db
from crm.inquiries.queries import InquiryFilters
from crm.saved_views import services
from crm.saved_views.forms import SavedViewForm
from crm.saved_views.queries import filters_of, get_view_or_404

bp = Blueprint("saved_views", __name__, url_prefix="/inquiries/views")


@bp.post("")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def save():
    from crm.inquiries.views import list_args, render_list

    form = SavedViewForm()
    args = list_args(form.next.data)
    filters = InquiryFilters.from_args(args)
    if form.validate_on_submit():
        try:
            view = services.save_view(form.name.data, filters, form.shared.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            target = url_for("inquiries.index", **filters_of(view).as_args())
            name = view.name
            remember_result(target)
            db.session.commit()
            flash(_("Vyn ”%(name)s” är sparad.", name=name), "success")
            return redirect(target)
    return render_list(args, {"view": form}, 422)


@bp.post("/<int:view_id>/delete")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def delete(view_id: int):
    view = get_view_or_404(view_id, current_user)
    name = view.name
    services.delete_view(view, current_user)
    target = safe_next(request.form.get("next")) or url_for("inquiries.index")
    remember_result(target)
    db.session.commit()
    flash(_("Vyn ”%(name)s” är borttagen.", name=name), "success")
    return redirect(target)
