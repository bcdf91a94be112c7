"""One search box for everything staff may read (`/sok?q=`)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.search.queries import SHOWN, exact_reference, may_search, search_everything
from crm.validation import clean_line

bp = Blueprint("search", __name__)


@bp.get("/sok")
@login_required
def results():
    if not may_search(current_user):
        abort(403)
    term = clean_line(request.args.get("q"))[:200]
    reference = exact_reference(term, current_user) if term else None
    if reference is not None:
        return redirect(url_for("inquiries.detail", reference=reference))
    groups = search_everything(term, current_user) if term else {}
    return render_template("search/results.html", term=term, groups=groups, shown=SHOWN)
