from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.inquiries.queries import get_inquiry_or_404, inbox_for, timeline_of
from crm.regions import region_name

bp = Blueprint("inquiries", __name__)


@bp.get("/inbox")
@permission_required(Permission.INQUIRY_VIEW)
def inbox():
    return render_template("inquiries/inbox.html", groups=inbox_for(current_user))


@bp.get("/inquiries/<reference>")
@permission_required(Permission.INQUIRY_VIEW)
def detail(reference: str):
    inquiry = get_inquiry_or_404(reference)
    return render_template(
        "inquiries/detail.html",
        inquiry=inquiry,
        regions=[region_name(code) for code in inquiry.regions],
        events=timeline_of(inquiry),
    )
