"""Who may open what (ASVS V4): every route × every role, and the role table itself."""

import pytest

from crm.auth.permissions import ROLE_PERMISSIONS, Permission, Role, role_can
from crm.models import RoutingRule
from tests.factories import InquiryFactory, UserFactory

PUBLIC = {
    "core.home", "core.healthz", "core.set_language", "auth.login", "static",
    "public.inquiry_form", "public.receipt", "public.status", "public.withdraw", "public.privacy",
}  # fmt: skip
ROLES = ["anonymous", "secretary_general", "chair", "board", "admin"]

# GET path -> expected status for: anonymous, secretary general, chair, board, admin
ACCESS = {
    "/start": (302, 302, 302, 302, 302),
    "/inbox": (302, 200, 200, 200, 403),
    "/inquiries/{reference}": (302, 200, 200, 200, 403),
    "/inquiries/SAM-1999-9999": (302, 404, 404, 404, 403),
    "/admin/users": (302, 403, 403, 403, 200),
    "/admin/routing": (302, 200, 403, 403, 200),
    "/admin/routing/new": (302, 200, 403, 403, 200),
    "/admin/routing/{rule_id}": (302, 200, 403, 403, 200),
}
# POST-only paths -> expected status for the same roles (an empty form: 400/302 means "let in")
POST_ACCESS = {
    "/admin/routing/{rule_id}/move": (302, 400, 403, 403, 400),
    "/admin/routing/{rule_id}/delete": (302, 302, 403, 403, 302),
}
ENDPOINTS = {
    "core.start", "inquiries.inbox", "inquiries.detail", "admin.users", "routing.rules",
    "routing.new", "routing.edit", "routing.move", "routing.delete", "auth.logout",
}  # fmt: skip


def test_every_staff_route_is_in_the_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC == ENDPOINTS


@pytest.fixture
def objects(db):
    target = UserFactory(role="secretary_general")
    rule = RoutingRule(position=1, name="r", target_user_id=target.id)
    db.session.add(rule)
    db.session.commit()
    return {"reference": InquiryFactory().reference, "rule_id": rule.id}


def _as(role, login_as):
    if role != "anonymous":
        login_as(role)


@pytest.mark.parametrize("path", ACCESS)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_v4_1_1_access_table(client, login_as, objects, path, role_index):
    _as(ROLES[role_index], login_as)
    response = client.get(path.format(**objects))
    assert response.status_code == ACCESS[path][role_index], (ROLES[role_index], path)
    if ROLES[role_index] == "anonymous":
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", POST_ACCESS)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_v4_1_1_post_access_table(client, login_as, objects, path, role_index):
    _as(ROLES[role_index], login_as)
    response = client.post(path.format(**objects))
    assert response.status_code == POST_ACCESS[path][role_index], (ROLES[role_index], path)


def test_secretary_general_and_chair_share_inquiry_rights_board_only_reads():
    for permission in (Permission.INQUIRY_VIEW, Permission.INQUIRY_EDIT, Permission.INQUIRY_ASSIGN):
        assert role_can(Role.SECRETARY_GENERAL, permission)
        assert role_can(Role.CHAIR, permission)
    assert ROLE_PERMISSIONS[Role.BOARD] == {
        Permission.INQUIRY_VIEW,
        Permission.ORGANISATION_VIEW,
        Permission.REPORT_VIEW,
    }
    assert not role_can(Role.BOARD, Permission.EXPORT_PERSONAL_DATA)
    assert not role_can(Role.ADMIN, Permission.INQUIRY_VIEW)


def test_v4_1_5_unknown_role_holds_nothing():
    assert not any(role_can("king", permission) for permission in Permission)
    assert not any(role_can(None, permission) for permission in Permission)


def test_navigation_shows_only_what_the_role_may_use(client, login_as):
    login_as("board")
    page = client.get("/inbox").text
    assert 'href="/inbox"' in page
    assert 'href="/admin/users"' not in page
    assert 'href="/admin/routing"' not in page


def test_admin_navigation(client, login_as):
    login_as("admin")
    page = client.get("/admin/users").text
    assert 'href="/admin/users"' in page
    assert 'href="/admin/routing"' in page
    assert 'href="/inbox"' not in page
