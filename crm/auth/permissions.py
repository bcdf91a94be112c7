"""Roles, permissions and the one table that joins them."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crm.choices import Choice, labelled


@labelled(
    {
        "secretary_general": _l("Generalsekreterare"),
        "chair": _l("Ordförande"),
        "board": _l("Styrelseledamot"),
        "admin": _l("Administratör"),
    }
)
class Role(Choice):
    SECRETARY_GENERAL = "secretary_general"
    CHAIR = "chair"
    BOARD = "board"
    ADMIN = "admin"


class Permission(Choice):
    """What a user may do, named resource:action."""

    INQUIRY_VIEW = "inquiry:view"
    INQUIRY_EDIT = "inquiry:edit"
    INQUIRY_ASSIGN = "inquiry:assign"
    # Complete or move anyone's follow-up, not only one's own.
    FOLLOW_UP_MANAGE_ALL = "follow_up:manage_all"
    ORGANISATION_VIEW = "organisation:view"
    ORGANISATION_EDIT = "organisation:edit"
    REPORT_VIEW = "report:view"
    EXPORT_PERSONAL_DATA = "export:personal_data"
    ROUTING_MANAGE = "routing:manage"
    # Shared reply templates (svarsmallar); personal ones come with inquiry:edit.
    TEMPLATE_MANAGE = "template:manage"
    USER_MANAGE = "user:manage"
    AUDIT_VIEW = "audit:view"
    SETTINGS_MANAGE = "settings:manage"
    # Requests from individuals (GDPR art. 15, 17, 20): see, hand over and erase a person's data.
    PRIVACY_MANAGE = "privacy:manage"


_P = Permission
_INQUIRY_WORK = {_P.INQUIRY_VIEW, _P.INQUIRY_EDIT, _P.INQUIRY_ASSIGN}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SECRETARY_GENERAL: frozenset(
        _INQUIRY_WORK
        | {
            _P.ORGANISATION_VIEW,
            _P.ORGANISATION_EDIT,
            _P.FOLLOW_UP_MANAGE_ALL,
            _P.REPORT_VIEW,
            _P.EXPORT_PERSONAL_DATA,
            _P.ROUTING_MANAGE,
            _P.TEMPLATE_MANAGE,
        }
    ),
    Role.CHAIR: frozenset(
        _INQUIRY_WORK | {_P.ORGANISATION_VIEW, _P.REPORT_VIEW, _P.EXPORT_PERSONAL_DATA}
    ),
    Role.BOARD: frozenset({_P.INQUIRY_VIEW, _P.ORGANISATION_VIEW, _P.REPORT_VIEW}),
    Role.ADMIN: frozenset(
        {
            _P.USER_MANAGE,
            _P.ROUTING_MANAGE,
            _P.TEMPLATE_MANAGE,
            _P.SETTINGS_MANAGE,
            _P.AUDIT_VIEW,
            _P.PRIVACY_MANAGE,
        }
    ),
}


# Council officers: the roles inquiries and follow-ups are given to.
ASSIGNABLE_ROLES = frozenset({Role.SECRETARY_GENERAL, Role.CHAIR})


def role_can(role: Role | str | None, permission: Permission) -> bool:
    """Whether the role holds the permission; unknown roles hold nothing (fail closed)."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except (ValueError, KeyError):
        return False


def permission_required(*permissions: Permission):
    """Require a logged-in, active user holding every permission given; else 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from crm.extensions import login_manager

                return login_manager.unauthorized()
            if not all(current_user.can(permission) for permission in permissions):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
