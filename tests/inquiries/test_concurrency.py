"""Several people working on one inquiry at once: nobody's text is lost."""

import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from sqlalchemy import func, select

from crm.activity.models import Note
from crm.mail.models import OutboxMessage
from crm.models import Inquiry
from tests.conftest import TEST_PASSWORD
from tests.factories import InquiryFactory, UserFactory

PEOPLE = 10


def logged_in_clients(app, emails):
    clients = []
    for email in emails:
        client = app.test_client()
        client.post("/login", data={"email": email, "password": TEST_PASSWORD})
        clients.append(client)
    return clients


def test_simultaneous_notes_and_replies_are_all_kept(app, committed):
    """Stamping the first response must not turn parallel notes into edit conflicts."""
    emails = [UserFactory(role="secretary_general").email for _ in range(PEOPLE)]
    reference = InquiryFactory().reference
    committed.session.remove()
    clients = logged_in_clients(app, emails)
    start = Barrier(PEOPLE)

    def write(n):
        start.wait(timeout=30)
        kind = "notes" if n % 2 else "reply"
        return clients[n].post(f"/inquiries/{reference}/{kind}", data={"body": f"Text {n}"})

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        responses = list(pool.map(write, range(PEOPLE)))

    assert [r.status_code for r in responses] == [302] * PEOPLE
    with app.app_context():
        notes = committed.session.scalars(select(Note.body)).all()
        replies = committed.session.scalars(
            select(OutboxMessage.body_text).where(OutboxMessage.kind == "public_reply")
        ).all()
        answered = committed.session.scalar(select(Inquiry.first_response_at))
    assert sorted(notes) == sorted(f"Text {n}" for n in range(1, PEOPLE, 2))
    assert len(replies) == PEOPLE // 2
    assert all(any(f"Text {n}" in body for body in replies) for n in range(0, PEOPLE, 2))
    assert answered is not None


def test_a_real_conflict_shows_the_form_again_with_what_was_written(app, db):
    secretary, chair = UserFactory(role="secretary_general"), UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=chair.id)
    first, second = logged_in_clients(app, [secretary.email, chair.email])
    seen = inquiry.version
    changed = first.post(
        f"/inquiries/{inquiry.reference}/priority", data={"priority": "high", "version": seen}
    )
    assert changed.status_code == 302
    reason = "Jag sitter i föreningens styrelse och har varit med och skrivit ansökan."
    url = f"/inquiries/{inquiry.reference}/conflict"
    response = second.post(url, data={"reason": reason, "version": seen})
    assert response.status_code == 409
    assert "Någon annan har ändrat förfrågan" in response.text
    assert reason in response.text  # the text is still in the form
    current = db.session.get(Inquiry, inquiry.id)
    shown_version = re.search(
        r'action="' + re.escape(url) + r'".*?name="version" type="hidden" value="(\d+)"',
        response.text,
        re.S,
    ).group(1)
    assert int(shown_version) == current.version  # sending it again is a fresh decision
    assert current.assignee_id == chair.id
    again = second.post(url, data={"reason": reason, "version": shown_version})
    assert again.status_code == 302
    assert db.session.get(Inquiry, inquiry.id).assignee_id == secretary.id
    assert db.session.scalar(select(func.count()).select_from(Note)) == 0
