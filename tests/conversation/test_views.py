"""The conversation as people meet it: staff on the detail page, the submitter on the status
page, and the mail between them through a real SMTP server."""

import re

from sqlalchemy import select

from crm.conversation.models import Message
from crm.core.idempotency import new_submission_id
from crm.inquiries.statuses import Status
from crm.mail.services import send_pending
from crm.mail.threading import signed_reference
from crm.models import Inquiry
from tests.factories import InquiryFactory, UserFactory
from tests.helpers import fresh, mails
from tests.public.helpers import submit_for_status_path


def submit(app, client):
    return submit_for_status_path(app, client)


def answer(client, path, body):
    page = client.get(path).text
    submission = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page)
    data = {"body": body, "submission_id": submission.group(1) if submission else ""}
    return client.post(path + "/svar", data=data)


def test_staff_read_the_whole_thread_with_internal_entries_marked(client, db, login_as):
    me = login_as("secretary_general", name="Greta Generalsekreterare")
    inquiry = InquiryFactory(assignee_id=me.id, message="Vi vill göra en utställning.")
    client.post(f"/inquiries/{inquiry.reference}/reply", data={"body": "Berätta mer!"})
    client.post(f"/inquiries/{inquiry.reference}/notes", data={"body": "Kolla budgeten"})
    page = client.get(f"/inquiries/{inquiry.reference}").text
    thread = page[page.index('<ol class="thread">') : page.index('id="thread-end"')]
    assert thread.index("Vi vill göra en utställning.") < thread.index("Berätta mer!")
    assert thread.index("Berätta mer!") < thread.index("Kolla budgeten")
    assert "Greta Generalsekreterare" in thread
    assert "Internt – syns inte för avsändaren" in thread
    assert thread.count("Internt – syns inte för avsändaren") == 1  # only the note


def test_the_submitter_answers_on_the_status_page_and_staff_hear_of_it(app, client, db):
    secretary = UserFactory(role="secretary_general")
    path = submit(app, client)
    response = answer(client, path, "Här kommer budgeten: 40 000 kr.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(path + "#thread-end")
    page = client.get(path).text
    assert "Tack! Ditt svar är skickat." in page
    assert "Här kommer budgeten: 40 000 kr." in page
    [message] = db.session.scalars(select(Message)).all()
    assert message.from_submitter
    [notice] = mails(db, "submitter_reply_notice")
    assert notice.recipient == secretary.email
    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.submitter_replied_at is not None


def test_a_double_click_on_the_status_page_stores_one_answer_and_one_mail(app, client, db):
    UserFactory(role="secretary_general")
    path = submit(app, client)
    page = client.get(path).text
    submission = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page).group(1)
    data = {"body": "Dubbelklick", "submission_id": submission}
    first, second = client.post(path + "/svar", data=data), client.post(path + "/svar", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(db.session.scalars(select(Message)).all()) == 1
    assert len(mails(db, "submitter_reply_notice")) == 1


def test_an_empty_answer_is_shown_next_to_the_field_and_nothing_is_stored(app, client, db):
    path = submit(app, client)
    response = answer(client, path, "   ")
    assert response.status_code == 422
    assert re.search(r'id="answer-body-error"[^>]*>\s*Skriv ditt svar\.', response.text)
    assert db.session.scalars(select(Message)).all() == []


def test_an_ended_inquiry_has_no_answer_form_and_refuses_a_posted_answer(app, client, db):
    path = submit(app, client)
    inquiry = db.session.scalar(select(Inquiry))
    inquiry.status = Status.DECLINED
    db.session.commit()
    page = client.get(path).text
    assert "Skriv till samarbetsrådet" not in page
    data = {"body": "Varför?", "submission_id": new_submission_id()}
    response = client.post(path + "/svar", data=data)
    assert response.status_code == 422
    assert "Förfrågan är avslutad." in response.text
    assert "Varför?" in response.text  # what was typed is kept
    assert db.session.scalars(select(Message)).all() == []


def test_notes_and_logged_contacts_never_reach_the_status_page(app, client, db, login_as):
    path = submit(app, client)
    inquiry = db.session.scalar(select(Inquiry))
    login_as("secretary_general")
    reference = inquiry.reference
    client.post(f"/inquiries/{reference}/notes", data={"body": "Hemlig anteckning"})
    client.post(f"/inquiries/{reference}/reply", data={"body": "Öppet svar"})
    client.get("/logout")
    page = client.get(path).text
    assert "Öppet svar" in page
    assert "Hemlig anteckning" not in page
    assert "Internt" not in page


def test_an_answer_shows_in_the_inbox_until_someone_replies(app, client, db, login_as):
    path = submit(app, client)
    answer(client, path, "Ett svar")
    me = login_as("chair")
    inquiry = db.session.scalar(select(Inquiry))
    inquiry.assignee_id = me.id
    db.session.commit()
    inbox = client.get("/inbox").text
    answered = inbox[inbox.index("Svar från avsändaren") : inbox.index("Mina försenade")]
    assert inquiry.reference in answered
    client.post(f"/inquiries/{inquiry.reference}/reply", data={"body": "Tack för svaret"})
    assert fresh(db, inquiry).submitter_replied_at is None
    inbox = client.get("/inbox").text
    answered = inbox[inbox.index("Svar från avsändaren") : inbox.index("Mina försenade")]
    assert inquiry.reference not in answered


def test_a_reply_arrives_as_mail_that_threads_and_comes_back_to_the_intake(
    app, client, db, login_as, smtp_server
):
    app.config["MAIL_INTAKE_ADDRESS"] = "samverkan@lansmuseerna.se"
    path = submit(app, client)
    inquiry = db.session.scalar(select(Inquiry))
    login_as("secretary_general", name="Greta Generalsekreterare")
    client.post(f"/inquiries/{inquiry.reference}/reply", data={"body": "Välkomna i maj!"})
    send_pending()
    delivered = {m["Subject"].split(" / ")[0]: m for m in smtp_server.parsed()}
    receipt = delivered[f"[{inquiry.reference}] Tack för din förfrågan"]
    reply = delivered[f"[{inquiry.reference}] Svar på din förfrågan"]
    assert reply["From"] == "Greta Generalsekreterare via Samverka <samverka@lansmuseerna.se>"
    assert reply["Reply-To"] == "samverkan@lansmuseerna.se"
    assert reply["In-Reply-To"] == receipt["Message-ID"]
    assert reply["References"] == receipt["Message-ID"]
    assert signed_reference(reply["Message-ID"]) == inquiry.reference
    assert "Auto-Submitted" not in reply  # a person wrote it
    text = reply.get_body(("plain",)).get_content()
    assert text.startswith("## Skriv ditt svar ovanför den här raden ##")
    assert "Välkomna i maj!" in text
    link = re.search(r"https?://[^/\s]+(/samverkan/status/[\w-]+)\r?\n", text).group(1)
    assert link == path
    client.get("/logout")
    assert "Välkomna i maj!" in client.get(link).text
