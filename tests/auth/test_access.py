"""Who may open what (ASVS V4): every route × every role, and the role table itself."""

import pytest

from crm.auth.permissions import ROLE_PERMISSIONS, Permission, Role, role_can

PUBLIC = {"core.home", "core.healthz", "core.set_language", "auth.login", "static"}
ROLES = ["anonymous", "secretary_general", "chair", "board", "admin"]

# path -> expected status for: anonymous, secretary general, chair, board, admin
ACCESS = {
    "/start": (302, 302, 302, 302, 302),
    "/inbox": (302, 200, 200, 200, 403),
    "/admin/users": (302, 403, 403, 403, 200),
}
ENDPOINT_OF = {"/start": "core.start", "/inbox": "inquiries.inbox", "/admin/users": "admin.users"}
POST_ONLY = {"auth.logout"}


def test_every_staff_route_is_in_the_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    staff = endpoints - PUBLIC - POST_ONLY
    assert staff == set(ENDPOINT_OF.values())


@pytest.mark.parametrize("path", ACCESS)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_v4_1_1_access_table(client, login_as, path, role_index):
    role = ROLES[role_index]
    if role != "anonymous":
        login_as(role)
    response = client.get(path)
    expected = ACCESS[path][role_index]
    assert response.status_code == expected, (role, path)
    if role == "anonymous":
        assert response.headers["Location"].startswith("/login")


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


def test_admin_navigation(client, login_as):
    login_as("admin")
    page = client.get("/admin/users").text
    assert 'href="/admin/users"' in page
    assert 'href="/inbox"' not in page
