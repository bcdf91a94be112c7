"""The jäv rule, in one place: who may act on an inquiry and who may be made responsible.

A person who has declared jäv (a `ConflictDeclaration`) still reads the inquiry, but every
service that changes it refuses them, the detail page shows them no action forms, and neither
assignment nor routing ever gives it to them. Pages and services call the same predicates.
"""

from __future__ import annotations

from flask_babel import gettext as _

from crm.auth.permissions import Permission
from crm.errors import NotPermitted


def may_act_on(user, inquiry) -> bool:
    """Staff who may edit inquiries and have not declared jäv on this one."""
    return (
        user is not None
        and user.can(Permission.INQUIRY_EDIT)
        and inquiry.declared_conflict(user) is None
    )


def may_be_assigned(user, inquiry) -> bool:
    """Who can be made responsible for the inquiry: an active officer without jäv on it."""
    return may_act_on(user, inquiry)


def require_may_act(inquiry, actor) -> None:
    """Refuse a staff member who may not act on the inquiry (jäv, or no inquiry:edit).

    The submitter (actor None, through their status link) is not staff and not refused here.
    """
    if actor is None or may_act_on(actor, inquiry):
        return
    if inquiry.declared_conflict(actor) is not None:
        raise NotPermitted(
            _(
                "Du har anmält jäv för %(ref)s och kan läsa förfrågan men inte ändra den.",
                ref=inquiry.reference,
            )
        )
    raise NotPermitted(_("Du har inte behörighet att ändra förfrågningar."))
