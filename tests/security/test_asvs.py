"""Security promises from SECURITY.md, each proven through HTTP (OWASP ASVS 4.0.3, level 2)."""

import logging
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from crm.logs import JsonFormatter, OneLineFormatter
from crm.models import AuditLog, Inquiry, Note, RoutingRule
from tests.conftest import TEST_PASSWORD, make_app
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory
from tests.public.helpers import form_data

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_v4_2_2_every_post_route_refuses_a_missing_csrf_token(database, db):
    app = make_app(database, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = UserFactory(role="secretary_general")
    token = csrf_token(client.get("/login").text)
    assert (
        client.post(
            "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    inquiry = InquiryFactory()
    rule = RoutingRule(position=1, name="r", target_user_id=user.id)
    db.session.add(rule)
    db.session.commit()
    values = {
        "reference": inquiry.reference,
        "token": "x",
        "rule_id": rule.id,
        "note_id": 1,
        "follow_up_id": 1,
        "organisation_id": OrganisationFactory().id,
        "contact_id": 1,
        "message_id": 1,
        "closure_day_id": 1,
        "mail_id": 1,
        "user_id": user.id,
        "tag_id": 1,
        "view_id": 1,
        "template_id": 1,
        "import_id": 1,
    }
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 30
    for rule_ in posts:
        path = rule_.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:int:)?{name}>", str(value), path)
        response = client.post(path, data={"body": "x"})
        assert response.status_code == 400, path
        assert "Felaktig begäran" in response.text


def test_v5_3_3_script_in_every_field_is_shown_as_text_everywhere(app, client, db, login_as):
    login_as("secretary_general")  # the only secretary general, so routing gives it to us
    fields = ["organisation_name", "contact_name", "subject", "message"]
    data = form_data(app, **dict.fromkeys(fields, XSS))
    client.post("/samverkan", data=data)
    status_path = re.search(
        r'http://localhost(/samverkan/status/[^"]+)"', client.get("/samverkan/tack").text
    ).group(1)
    status_page = client.get(status_path).text
    inquiry = db.session.scalar(select(Inquiry))
    client.post(f"/inquiries/{inquiry.reference}/notes", data={"body": XSS})
    client.post(
        f"/inquiries/{inquiry.reference}/organisation",
        data={"action": "create", "version": inquiry.version},
    )
    organisation_id = db.session.scalar(select(Inquiry.organisation_id))
    pages = {
        "status": status_page,
        "detail": client.get(f"/inquiries/{inquiry.reference}").text,
        "list": client.get("/inquiries").text,
        "inbox": client.get("/inbox").text,
        "pipeline": client.get("/pipeline").text,
        "organisations": client.get("/organisations").text,
        "organisation": client.get(f"/organisations/{organisation_id}").text,
    }
    for name, page in pages.items():
        assert "<script>alert" not in page, name
        assert "onerror=alert(1)>" not in page, name
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page, name


@pytest.mark.parametrize(
    "term", ["'", "%", "_", "\\", "' OR '1'='1", "1; DROP TABLE inquiries; --"]
)
def test_v5_3_4_sql_meta_characters_in_every_filter(client, db, login_as, term):
    login_as("secretary_general")
    InquiryFactory()
    for path in ("/inquiries", "/organisations", "/pipeline", "/dashboard", "/admin/audit"):
        for name in (
            "q",
            "status",
            "assignee",
            "category",
            "region",
            "year",
            "type",
            "sort",
            "after",
            "before",
            "action",
            "date",
        ):
            assert client.get(path, query_string={name: term}).status_code in {200, 403}, (
                path,
                name,
            )
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 1


def test_v14_5_1_unused_methods_and_paths(client):
    assert client.open("/", method="TRACE").status_code == 405
    assert client.open("/samverkan", method="PUT").status_code == 405
    assert client.get("/.git/HEAD").status_code == 404
    assert client.get("/static/../config.py").status_code == 404


def test_v14_5_3_no_cors_and_no_version_headers(client, login_as):
    login_as("secretary_general")
    for path in ("/", "/samverkan", "/inbox", "/export/inquiries.csv", "/healthz"):
        response = client.get(path, headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in response.headers, path
        assert "Server" not in response.headers, path
        assert "X-Powered-By" not in response.headers, path


@pytest.mark.parametrize(
    "path",
    [
        "/inbox", "/inquiries", "/export/inquiries.csv", "/export/inquiries.xlsx", "/dashboard",
        "/dashboard/arsrapport", "/dashboard/arsrapport.xlsx", "/account",
    ],
)  # fmt: skip
def test_v8_2_1_staff_pages_and_exports_are_not_cached(client, login_as, path):
    login_as("secretary_general")
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_v7_1_1_no_password_or_email_in_logs(app, client, db, caplog):
    caplog.set_level(logging.DEBUG)
    user = UserFactory(email="hemlig.person@exempel.se")
    client.post("/login", data={"email": user.email, "password": "mitt-hemliga-lösenord"})
    client.post("/login", data={"email": "okand@exempel.se", "password": "annat-hemligt-lösenord"})
    client.post("/samverkan", data=form_data(app, email="inskickare@exempel.se"))
    text = caplog.text
    assert "login_failed" in text
    for secret in (
        "mitt-hemliga-lösenord",
        "annat-hemligt-lösenord",
        "hemlig.person@",
        "okand@",
        "inskickare@",
    ):
        assert secret not in text


def test_v7_1_3_security_events_are_logged_with_user_ip_and_time(client, db, login_as, caplog):
    caplog.set_level(logging.INFO)
    user = login_as("board")
    client.get("/admin/users")
    denied = [r for r in caplog.records if "access_denied" in r.getMessage()]
    assert denied
    assert f"user={user.id}:" in denied[0].getMessage()
    assert "ip=127.0.0.1" in denied[0].getMessage()
    assert denied[0].created > 0


def test_v7_3_1_a_value_with_newlines_stays_on_one_log_line():
    record = logging.LogRecord(
        "crm", logging.WARNING, __file__, 1, "path=%s", ("/x\nFAKE login_succeeded",), None
    )
    record.request_id = "r1"
    plain = OneLineFormatter("%(message)s").format(record)
    as_json = JsonFormatter().format(record)
    assert "\n" not in plain
    assert "\n" not in as_json
    assert "\\n" in plain


def test_request_id_is_on_every_response_and_can_be_passed_in(client):
    generated = client.get("/").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/", headers={"X-Request-ID": "lb-123"}).headers["X-Request-ID"] == "lb-123"
    forged = client.get("/", headers={"X-Request-ID": "a b <script>"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)  # an unsafe id is replaced, not echoed


def test_v4_1_5_permission_check_fails_closed(database, db, monkeypatch):
    app = make_app(database, TESTING=False)
    client = app.test_client()
    user = UserFactory(role="secretary_general")
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})

    def broken(*args, **kwargs):
        raise RuntimeError("permission store down")

    monkeypatch.setattr("crm.auth.models.role_can", broken)
    response = client.get("/inbox")
    assert response.status_code in {403, 500}
    assert "Inkorg" not in response.text.split("<main")[1]


def test_failure_mid_request_rolls_back_everything(database, db, monkeypatch):
    """A database error after the first writes leaves nothing half-saved."""
    app = make_app(database, TESTING=False)
    client = app.test_client()
    user = UserFactory(role="secretary_general")
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    inquiry = InquiryFactory()
    audit_before = db.session.scalar(select(func.count()).select_from(AuditLog))

    def fail_after_writing(*args, **kwargs):
        raise OperationalError("INSERT INTO timeline_events", {}, Exception("disk full"))

    monkeypatch.setattr("crm.activity.services.record_event", fail_after_writing)
    response = client.post(f"/inquiries/{inquiry.reference}/notes", data={"body": "halv"})
    assert response.status_code == 500
    assert "Inget av det du skickade har sparats" in response.text
    assert db.session.scalar(select(func.count()).select_from(Note)) == 0
    # the view's audit row of the failed request is gone too; only the log-in's rows remain
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audit_before


def test_v2_5_4_no_demo_accounts_in_production(runner, monkeypatch, app):
    monkeypatch.setitem(app.config, "SAMVERKA_ENV", "production")
    result = runner.invoke(args=["crm", "demo-users"])
    assert result.exit_code == 1
    assert "refused in production" in result.output


def test_v14_4_3_no_inline_script_or_style_in_page_templates():
    """The CSP forbids inline script and style; the templates never need them."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if "mail" not in path.parts and re.search(r"<script|style=|\bon\w+=", path.read_text())
    ]
    assert offenders == []
