"""The submitter's private status link (ASVS 4.2.1)."""

import re

from sqlalchemy import select

from crm.conversation.models import Direction, Message, MessageChannel
from crm.inquiries.statuses import Status
from crm.models import Inquiry, Note, TimelineEvent
from crm.timeutil import utcnow
from tests.factories import UserFactory
from tests.helpers import STOCKHOLM
from tests.public.helpers import form_data, submit_for_status_path


def submit(app, client):
    return submit_for_status_path(app, client)


def test_status_link_shows_status_and_dates_in_plain_swedish(app, client, db):
    path = submit(app, client)
    page = client.get(path)
    assert page.status_code == 200
    assert "Vandringsutställning om sörmländska gårdar" in page.text
    assert 'class="badge status-new">Ny<' in page.text
    assert "Vi har tagit emot din förfrågan" in page.text
    assert page.headers["Referrer-Policy"] == "same-origin"  # never sent to another site
    assert "noindex" in page.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in page.text


def test_v4_2_1_token_is_long_random_and_stored_only_hashed(app, client, db):
    path = submit(app, client)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes, base64url: 256 bits
    inquiry = db.session.scalar(select(Inquiry))
    assert token not in inquiry.status_token_hash
    assert client.get(path[:-1] + ("A" if path[-1] != "A" else "B")).status_code == 404
    assert client.get("/samverkan/status/gissning").status_code == 404
    guessed = client.get("/samverkan/status/gissning").text
    assert "<h1>Sidan finns inte</h1>" in guessed  # the same page as any unknown address


def test_internal_notes_never_show_but_public_replies_do(app, client, db):
    path = submit(app, client)
    inquiry = db.session.scalar(select(Inquiry))
    staff = UserFactory()
    db.session.add(Note(inquiry_id=inquiry.id, author_id=staff.id, body="Intern: kolla budgeten"))
    db.session.add(
        Message(
            inquiry_id=inquiry.id,
            direction=Direction.OUTBOUND,
            channel=MessageChannel.SAMVERKA,
            author_id=staff.id,
            body="Tack, vi återkommer i maj.",
        )
    )
    db.session.commit()
    page = client.get(path).text
    assert "Tack, vi återkommer i maj." in page
    assert "kolla budgeten" not in page


def test_submitter_withdraws_with_confirmation(app, client, db):
    path = submit(app, client)
    confirm = client.get(path + "/aterkalla")
    assert "Ja, återkalla förfrågan" in confirm.text
    response = client.post(path + "/aterkalla")
    assert response.headers["Location"] == path
    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.status == Status.WITHDRAWN
    assert inquiry.closed_at is not None
    assert inquiry.first_response_at is None  # the submitter's own act is no response
    event = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "status_changed"))
    assert event.data == {"old": "new", "new": "withdrawn", "by": "submitter"}
    assert event.actor_id is None
    page = client.get(path).text
    assert "Din förfrågan är återkallad." in page
    assert "Återkalla förfrågan" not in page


def test_closed_inquiry_cannot_be_withdrawn(app, client, db):
    path = submit(app, client)
    inquiry = db.session.scalar(select(Inquiry))
    inquiry.status = Status.AGREED
    db.session.commit()
    assert "Återkalla förfrågan" not in client.get(path).text
    client.post(path + "/aterkalla")
    assert db.session.scalar(select(Inquiry.status)) == Status.AGREED


def test_withdraw_works_behind_tls_where_csrf_checks_the_referrer(database, db, monkeypatch):
    """In production (https) Flask-WTF demands a same-origin Referer, which the page allows."""
    from tests.conftest import make_app

    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    app = make_app(database, WTF_CSRF_ENABLED=True, PREFERRED_URL_SCHEME="https")
    client = app.test_client()
    page = client.get("/samverkan").text
    token = re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page
    ).group(1)
    started = re.search(r'id="started" name="started" type="hidden" value="([^"]+)"', page).group(1)
    data = {**form_data(app), "csrf_token": token, "started": started}
    app.config["FORM_MIN_FILL_SECONDS"] = 0
    referer = {"Referer": "https://localhost/samverkan"}
    assert client.post("/samverkan", data=data, headers=referer).status_code == 302
    path = re.search(
        r'https://localhost(/samverkan/status/[^"]+)"', client.get("/samverkan/tack").text
    ).group(1)
    status = client.get(path)
    assert status.headers["Referrer-Policy"] == "same-origin"
    confirm = client.get(path + "/aterkalla").text
    csrf = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', confirm.split("<main")[1]
    ).group(1)
    # what a browser sends under `same-origin`: the full same-site URL as Referer
    response = client.post(
        path + "/aterkalla",
        data={"csrf_token": csrf},
        headers={"Referer": "https://localhost" + path + "/aterkalla"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Inquiry.status)) == Status.WITHDRAWN
    # and without any Referer (what `no-referrer` would cause) it is refused
    assert client.post(path + "/aterkalla", data={"csrf_token": csrf}).status_code == 400


def test_internal_work_is_no_first_response_for_the_submitter(app, client, db, login_as):
    """The issue's scenario: a note (or a priority change, or triage) answers nobody."""
    path = submit(app, client)
    inquiry = db.session.scalar(select(Inquiry))
    login_as("secretary_general")
    staff_page = f"/inquiries/{inquiry.reference}"
    client.post(staff_page + "/notes", data={"body": "Låter intressant, ta upp på mötet."})
    client.post(staff_page + "/priority", data={"priority": "high", "version": 1})
    client.post(staff_page + "/status", data={"status": "triaged", "version": 2})
    page = client.get(path).text
    assert "Bedömd" in page
    assert "Första svar" not in page
    assert "Inga svar ännu." in page

    client.post(staff_page + "/reply", data={"body": "Tack! Vi återkommer efter mötet."})
    page = client.get(path).text
    assert "Första svar" in page
    assert "Tack! Vi återkommer efter mötet." in page


def test_a_logged_call_is_a_first_response_without_text_on_the_page(app, client, db, login_as):
    path = submit(app, client)
    inquiry = db.session.scalar(select(Inquiry))
    login_as("secretary_general")
    client.post(
        f"/inquiries/{inquiry.reference}/contacts",
        data={
            "channel": "phone",
            "summary": "Ringde Åsa, hon skickar budget.",
            "happened_at": utcnow().astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    page = client.get(path).text
    assert "Första svar" in page
    assert "Ringde Åsa" not in page  # internal
    assert "Inga skriftliga svar här." in page
    assert "Inga svar ännu." not in page
