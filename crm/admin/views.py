from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from crm.auth.models import User
from crm.auth.permissions import ROLE_PERMISSIONS, Permission, permission_required
from crm.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@permission_required(Permission.USER_MANAGE)
def users():
    rows = db.session.scalars(select(User).order_by(User.name, User.id)).all()
    return render_template("admin/users.html", users=rows, role_permissions=ROLE_PERMISSIONS)
