"""User administration and password links through HTTP (issue 17)."""

import re

from sqlalchemy import func, select

from crm.audit.models import AuditLog
from crm.auth.models import User
from tests.conftest import TEST_PASSWORD
from tests.factories import InquiryFactory, UserFactory
from tests.helpers import mails

NEW_PASSWORD = "korp tvättar blå cykel"


def link_path(mail) -> str:
    return re.search(r"https?://[^/]+(/losenord/[A-Za-z0-9_-]+)", mail.body_text).group(1)


def test_the_admin_invites_and_the_invited_person_sets_a_password_and_logs_in(client, db, login_as):
    login_as("admin")
    page = client.get("/admin/users/new")
    assert page.status_code == 200
    response = client.post(
        "/admin/users/new",
        data={"name": "Karin Kask", "email": "karin@lansmuseerna.se", "role": "chair"},
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "karin@lansmuseerna.se"))
    assert "Inbjuden" in client.get(f"/admin/users/{user.id}").text
    client.post("/logout")
    path = link_path(mails(db, "invitation")[0])
    form = client.get(path)
    assert form.status_code == 200
    assert "karin@lansmuseerna.se" in form.text
    assert form.headers["Referrer-Policy"] == "same-origin"  # the token stays here
    weak = client.post(path, data={"password": "Sommar2024!!!", "confirm": "Sommar2024!!!"})
    assert weak.status_code == 422
    assert "för lätt att gissa" in weak.text
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.headers["Location"] == "/login"
    again = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert again.headers["Location"] == "/login"  # a double click: already done, no error page
    logged_in = client.post(
        "/login", data={"email": "karin@lansmuseerna.se", "password": NEW_PASSWORD}
    )
    assert logged_in.status_code == 302
    other_browser = client.application.test_client()
    assert other_browser.get(path).status_code == 404  # used up


def test_an_invitation_form_keeps_what_was_typed_on_error(client, db, login_as):
    login_as("admin")
    UserFactory(email="taken@lansmuseerna.se")
    response = client.post(
        "/admin/users/new",
        data={"name": "Ny Person", "email": "taken@lansmuseerna.se", "role": "board"},
    )
    assert response.status_code == 422
    assert re.search(r'id="email-error"[^>]*>Det finns redan en användare', response.text)
    assert 'value="Ny Person"' in response.text


def test_deactivating_ends_the_users_session_at_once(app, client, db, login_as):
    victim = UserFactory(role="secretary_general")
    InquiryFactory(assignee_id=victim.id, subject="Öppen förfrågan")
    db.session.commit()
    theirs = app.test_client()
    theirs.post("/login", data={"email": victim.email, "password": TEST_PASSWORD})
    assert theirs.get("/inbox").status_code == 200
    login_as("admin")
    page = client.get(f"/admin/users/{victim.id}").text
    assert "Öppen förfrågan" in page  # listed for handing over
    assert client.post(f"/admin/users/{victim.id}/deactivate").status_code == 302
    assert theirs.get("/inbox").status_code == 302  # out, at once
    assert "Avstängd" in client.get("/admin/users").text


def test_the_last_admin_is_refused_with_a_message_not_an_error_page(client, db, login_as):
    me = login_as("admin")
    response = client.post(f"/admin/users/{me.id}/deactivate", follow_redirects=True)
    assert response.status_code == 200
    assert "Den sista aktiva administratören kan inte stängas av." in response.text
    response = client.post(f"/admin/users/{me.id}/role", data={"role": "board"},
                           follow_redirects=True)  # fmt: skip
    assert "minst en aktiv administratör" in response.text


def test_forgot_password_answers_the_same_whoever_asks(client, db):
    UserFactory(email="greta@lansmuseerna.se")
    answers = [
        client.post("/glomt-losenord", data={"email": address}, follow_redirects=True).text
        for address in ("greta@lansmuseerna.se", "ingen@example.se")
    ]
    notice = "Om adressen hör till ett konto i Samverka har vi skickat en länk"
    assert all(notice in answer for answer in answers)
    assert [m.recipient for m in mails(db, "password_reset")] == ["greta@lansmuseerna.se"]
    requested = select(func.count()).where(AuditLog.action == "password_reset_requested")
    assert db.session.scalar(requested) == 2


def test_forgot_password_is_throttled_per_address_and_per_client(limited_app, db):
    app = limited_app(PASSWORD_RESET_LIMIT_PER_ADDRESS="2 per hour",
                      PASSWORD_RESET_LIMIT_PER_IP="3 per hour")  # fmt: skip
    client = app.test_client()
    same = [client.post("/glomt-losenord", data={"email": "a@example.se"}).status_code
            for _ in range(3)]  # fmt: skip
    assert same == [302, 302, 429]
    assert client.post("/glomt-losenord", data={"email": "b@example.se"}).status_code == 302
    assert client.post("/glomt-losenord", data={"email": "c@example.se"}).status_code == 429


def test_a_reset_link_logs_out_every_other_session(app, client, db):
    user = UserFactory(email="greta@lansmuseerna.se")
    other_browser = app.test_client()
    other_browser.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert other_browser.get("/account").status_code == 200
    client.post("/glomt-losenord", data={"email": user.email})
    path = link_path(mails(db, "password_reset")[0])
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert other_browser.get("/account").status_code == 302


def test_an_unknown_or_malformed_link_is_a_plain_404_page(client, db):
    for token in ("x", "a" * 43, "a" * 500):
        response = client.get(f"/losenord/{token}")
        assert response.status_code == 404
        assert "Länken gäller inte längre" in response.text


def test_control_characters_do_not_make_another_address_for_the_reset_limit(limited_app, db):
    app = limited_app(PASSWORD_RESET_LIMIT_PER_ADDRESS="2 per hour",
                      PASSWORD_RESET_LIMIT_PER_IP="50 per hour")  # fmt: skip
    client = app.test_client()
    UserFactory(email="greta@lansmuseerna.se")
    tries = ["greta@lansmuseerna.se", "greta@lansmuseerna.se\x01", "\x02greta@lansmuseerna.se",
             " GRETA@lansmuseerna.se "]  # fmt: skip
    statuses = [client.post("/glomt-losenord", data={"email": t}).status_code for t in tries]
    assert statuses == [302, 302, 429, 429]
    assert len(mails(db, "password_reset")) == 2


def test_a_nul_in_the_log_in_address_is_a_plain_refusal(client, db):
    response = client.post("/login", data={"email": "a\x00b@example.se", "password": "x"})
    assert response.status_code == 422


def test_an_invited_account_cannot_log_in_before_choosing_a_password(client, db, login_as):
    login_as("admin")
    invitation = {"name": "Ny Person", "email": "ny@lansmuseerna.se", "role": "board"}
    client.post("/admin/users/new", data=invitation)
    client.post("/logout")
    for password in ("", "!", TEST_PASSWORD):
        response = client.post("/login", data={"email": "ny@lansmuseerna.se", "password": password})
        assert response.status_code == 422
