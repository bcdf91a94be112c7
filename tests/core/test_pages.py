"""Public pages, language choice, error pages and the health check."""

import pytest
from sqlalchemy.exc import OperationalError

from crm.extensions import db as _db
from tests.conftest import make_app


def test_home_is_swedish_with_english_available(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="sv"' in page.text
    assert "Samverka med Sveriges länsmuseer" in page.text
    assert 'value="en"' in page.text
    assert 'href="#main"' in page.text  # skip link


def test_language_choice_sticks_and_can_be_undone(client):
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert "<h1>Log in</h1>" in client.get("/login").text
    assert "Collaborate with Sweden" in client.get("/").text
    client.post("/language", data={"lang": "sv"})
    assert "<h1>Logga in</h1>" in client.get("/login").text


def test_unknown_language_and_foreign_next_are_ignored(client):
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example"})
    assert response.headers["Location"] == "/"
    assert '<html lang="sv"' in client.get("/").text


@pytest.mark.parametrize(("lang", "title"), [("sv", "Sidan finns inte"), ("en", "Page not found")])
def test_404_page_in_both_languages(client, lang, title):
    client.post("/language", data={"lang": lang})
    response = client.get("/finns-inte")
    assert response.status_code == 404
    assert f"<h1>{title}</h1>" in response.text


def test_405_lists_allowed_methods(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "Metoden är inte tillåten" in response.text
    assert "GET" in response.headers["Allow"]


def test_413_for_oversize_body(client):
    response = client.post("/login", data={"email": "x" * 70_000, "password": "y"})
    assert response.status_code == 413
    assert "För mycket data" in response.text


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_unreachable(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(_db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_v7_4_1_unexpected_error_shows_error_id_not_traceback(database):
    app = make_app(database, TESTING=False)

    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom-for-test")
    assert response.status_code == 500
    assert "Något gick fel" in response.text
    assert "Felkod:" in response.text
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Server" not in response.headers


def test_v4_2_2_post_without_csrf_token_gets_a_friendly_400(database, db):
    app = make_app(database, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"email": "a@b.se", "password": "x"})
    assert response.status_code == 400
    assert "Felaktig begäran" in response.text


def test_cli_with_malformed_database_url_says_why_without_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": "notaurl", "FLASK_APP": "wsgi"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "crm", "seed-partners"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert result.returncode != 0
    assert "DATABASE_URL 'notaurl' is not a database URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_accessibility_statement_links_diggs_complaint_form(client):
    page = client.get("/tillganglighet").text
    assert "WCAG 2.1 nivå AA" in page
    assert 'href="https://www.digg.se/tdosanmalan"' in page
    assert 'href="/tillganglighet"' in client.get("/").text


def test_switching_language_on_a_form_shown_again_after_a_post_goes_back_to_its_page(
    client, db, login_as
):
    from tests.factories import InquiryFactory

    login_as("secretary_general")
    inquiry = InquiryFactory()
    refused = client.post(f"/inquiries/{inquiry.reference}/notes", data={"body": ""})
    assert refused.status_code == 422
    assert 'name="next" value=""' in refused.text  # not the POST-only address
    page = f"http://localhost/inquiries/{inquiry.reference}"
    switched = client.post("/language", data={"lang": "en"}, headers={"Referer": page})
    assert switched.location == f"/inquiries/{inquiry.reference}"
    elsewhere = client.post(
        "/language", data={"lang": "sv"}, headers={"Referer": "https://evil.example/x"}
    )
    assert elsewhere.location == "/"
