from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.inquiries.queries import inbox_for

bp = Blueprint("inquiries", __name__)


@bp.get("/inbox")
@permission_required(Permission.INQUIRY_VIEW)
def inbox():
    return render_template("inquiries/inbox.html", groups=inbox_for(current_user))
