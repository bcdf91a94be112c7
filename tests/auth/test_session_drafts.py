"""A session that ends while someone writes: after logging in again, their text comes back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from crm.auth.services import end_all_sessions
from crm.models import Note, User
from crm.timeutil import utcnow
from tests.conftest import TEST_PASSWORD, make_app
from tests.factories import InquiryFactory, UserFactory
from tests.html import csrf_token, form_posting_to, without_csrf

REPLY = 'Tack för ert brev!\n\nVi återkommer <script>alert("x")</script> & hälsar.'


@pytest.fixture
def writer(database, db):
    """A logged-in secretary general with CSRF on, an inquiry, and the page's CSRF token."""
    app = make_app(database, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = UserFactory(role="secretary_general")
    inquiry = InquiryFactory(assignee_id=user.id)
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get(f"/inquiries/{inquiry.reference}")
    return client, user, inquiry.reference, csrf_token(page.text)


def go_idle(client, minutes=31):
    with client.session_transaction() as session:
        session["seen_at"] = (utcnow() - timedelta(minutes=minutes)).isoformat()


def notes(db, text=REPLY) -> int:
    return db.session.scalar(select(func.count()).select_from(Note).where(Note.body == text))


def log_in_again(client, user, page: str, action: str):
    form = form_posting_to(page, f"/login?next={action}")
    data = MultiDict(form["fields"])
    data.update({"email": user.email, "password": TEST_PASSWORD})
    return client.post(f"/login?next={action}", data=data)


@pytest.mark.parametrize("ended", ["idle timeout", "signed out elsewhere"])
def test_v3_3_2_text_survives_a_session_that_ends_while_writing(writer, db, ended):
    client, user, reference, token = writer
    action = f"/inquiries/{reference}/notes"
    if ended == "idle timeout":
        go_idle(client)
    else:  # e.g. a password change on another device bumps the session version
        end_all_sessions(db.session.get(User, user.id))
        db.session.commit()

    response = client.post(action, data={"body": REPLY, "csrf_token": token})

    assert response.status_code == 401
    assert "<h1>Logga in</h1>" in response.text
    assert "inte sparat än" in response.text
    assert '<script>alert("x")' not in response.text  # escaped everywhere
    assert notes(db) == 0
    login_form = form_posting_to(response.text, f"/login?next={action}")
    assert ("draft:body", REPLY) in login_form["fields"]
    assert REPLY not in response.headers.get("Location", "")

    after = log_in_again(client, user, response.text, action)

    assert after.status_code == 200
    assert "<h1>Skicka det du skrev</h1>" in after.text
    resubmit = form_posting_to(after.text, action)
    assert without_csrf(resubmit["fields"]) == [("body", REPLY)]
    assert [text for _attributes, text in resubmit["texts"]] == [REPLY]
    assert dict(resubmit["fields"])["csrf_token"] not in {token, ""}  # a fresh token
    sent = client.post(action, data=MultiDict(resubmit["fields"]))
    assert sent.status_code == 302
    assert notes(db) == 1


def test_a_wrong_password_keeps_the_draft_for_the_next_try(writer, db):
    client, user, reference, token = writer
    action = f"/inquiries/{reference}/notes"
    go_idle(client)
    first = client.post(action, data={"body": REPLY, "csrf_token": token})
    form = form_posting_to(first.text, f"/login?next={action}")
    data = MultiDict(form["fields"])
    data.update({"email": user.email, "password": "fel-lösenord-helt-och-hållet"})
    wrong = client.post(f"/login?next={action}", data=data)
    assert wrong.status_code == 422
    assert "Fel e-postadress eller lösenord." in wrong.text
    assert log_in_again(client, user, wrong.text, action).status_code == 200


def test_a_timed_out_get_still_goes_to_the_login_page(writer):
    client, _user, reference, _token = writer
    go_idle(client)
    response = client.get(f"/inquiries/{reference}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/inquiries/{reference}"


def test_a_timed_out_post_with_a_forged_token_gets_nothing_echoed(writer):
    client, _user, reference, _token = writer
    go_idle(client)
    response = client.post(
        f"/inquiries/{reference}/notes", data={"body": REPLY, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "Tack för ert brev" not in response.text


def test_v5_1_5_a_draft_only_goes_back_to_a_local_path(writer, db):
    client, user, _reference, _token = writer
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/login?next=https://evil.example/steal",
        data={
            "email": user.email,
            "password": TEST_PASSWORD,
            "csrf_token": token,
            "draft:body": REPLY,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/start"
    assert "Tack för ert brev" not in response.text


def test_a_successful_log_in_with_a_draft_is_not_counted_as_a_failure(limited_app, db):
    app = limited_app(WTF_CSRF_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="1 per 5 minutes")
    client = app.test_client()
    user = UserFactory(role="secretary_general")
    reference = InquiryFactory(assignee_id=user.id).reference
    action = f"/inquiries/{reference}/notes"
    for _ in range(2):
        token = csrf_token(client.get("/login").text)
        data = {"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
        page = client.post(f"/login?next={action}", data={**data, "draft:body": REPLY})
        assert page.status_code == 200, page.text
        assert "<h1>Skicka det du skrev</h1>" in page.text
        client.post("/logout", data={"csrf_token": csrf_token(page.text)})
