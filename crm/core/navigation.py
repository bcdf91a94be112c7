"""The staff navigation: only what the user's role may use, with live counts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crm import database
from crm.auth.permissions import Permission
from crm.i18n import language

log = logging.getLogger(__name__)

NAV = (
    ("inquiries.inbox", _l("Inkorg"), Permission.INQUIRY_VIEW),
    ("inquiries.index", _l("Förfrågningar"), Permission.INQUIRY_VIEW),
    ("inquiries.new", _l("Registrera förfrågan"), Permission.INQUIRY_EDIT),
    ("follow_ups.index", _l("Uppföljningar"), Permission.INQUIRY_VIEW),
    ("partners.index", _l("Organisationer"), Permission.ORGANISATION_VIEW),
    ("reports.pipeline_board", _l("Pipeline"), Permission.REPORT_VIEW),
    ("reports.dashboard_page", _l("Översikt"), Permission.REPORT_VIEW),
    ("tags.index", _l("Etiketter"), Permission.INQUIRY_EDIT),
    ("routing.rules", _l("Fördelning"), Permission.ROUTING_MANAGE),
    # personal templates come with inquiry:edit, shared ones with template:manage (the admin)
    (
        "reply_templates.index",
        _l("Svarsmallar"),
        (Permission.INQUIRY_EDIT, Permission.TEMPLATE_MANAGE),
    ),
    ("users.index", _l("Användare"), Permission.USER_MANAGE),
    ("audit.index", _l("Granskningslogg"), Permission.AUDIT_VIEW),
    ("mail.queue", _l("E-postkö"), Permission.SETTINGS_MANAGE),
    ("attachments.quarantine", _l("Spärrade filer"), Permission.SETTINGS_MANAGE),
    ("privacy.person", _l("Personuppgifter"), Permission.PRIVACY_MANAGE),
    ("workdays.closure_days", _l("Stängningsdagar"), Permission.SETTINGS_MANAGE),
)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    current: bool
    count: int | None = None


def _failing_closed(what: str, default):
    """Run `what` for the menu; any error but a database outage gives `default` (and one log
    line), so an error page can still draw its header."""

    def wrap(compute):
        def run():
            if not current_user.is_authenticated:
                return default
            try:
                return compute()
            except Exception as exc:
                if database.unavailable(exc):
                    raise  # the whole page gets the 503 answer, with one log line
                log.exception("%s failed; showing none", what)
                return default

        run.__doc__ = compute.__doc__
        return run

    return wrap


@_failing_closed("navigation", [])
def nav_items() -> list[NavItem]:
    return _items()


@_failing_closed("search permission check", False)
def search_allowed() -> bool:
    """Whether the menu shows the search box (`/sok`): the reader may search inquiries or the
    register."""
    from crm.search.queries import may_search

    return may_search(current_user._get_current_object())


def _items() -> list[NavItem]:
    user = current_user._get_current_object()  # the proxy costs a look-up per use
    counts = _counts(user)
    labels = _labels(language())
    urls = _urls(request.script_root)
    return [
        NavItem(
            urls[endpoint], labels[endpoint], request.endpoint == endpoint, counts.get(endpoint)
        )
        for endpoint, _label, permission in NAV
        if _may_use(user, permission)
    ]


def _may_use(user, permission) -> bool:
    """One permission, or a tuple of which any one will do."""
    alternatives = permission if isinstance(permission, tuple) else (permission,)
    return any(user.can(one) for one in alternatives)


@lru_cache(maxsize=8)
def _urls(_script_root: str) -> dict[str, str]:
    """The menu's links, built once per mount point (they take no arguments) rather than on
    every page."""
    return {endpoint: url_for(endpoint) for endpoint, _label, _permission in NAV}


@lru_cache(maxsize=4)
def _labels(_language: str) -> dict[str, str]:
    """The menu in one language, translated once rather than on every page."""
    return {endpoint: str(label) for endpoint, label, _permission in NAV}


def _counts(user) -> dict[str, int]:
    from crm.inquiries.queries import menu_counts

    counts = {}
    if user.can(Permission.INQUIRY_VIEW):
        new, follow_ups_due = menu_counts(user)
        counts.update({"inquiries.inbox": new, "follow_ups.index": follow_ups_due})
    if user.can(Permission.SETTINGS_MANAGE):
        counts["mail.queue"] = _mail_needing_attention()
    return counts


def _mail_needing_attention() -> int:
    """Failed, held and delayed mail, so the admin sees it from every page."""
    from crm.mail.services import queue_health

    health = queue_health()
    return health.failed + health.held + health.delayed
