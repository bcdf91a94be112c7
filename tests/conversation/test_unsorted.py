"""The unsorted queue: a person attaches, makes a new inquiry of, or discards what the intake
could not file."""

import re

import pytest
from sqlalchemy import select

from crm.conversation.inbound import receive
from crm.conversation.models import InboundMail, InboundStatus, Message
from crm.core.idempotency import new_submission_id
from crm.inquiries.models import Inquiry
from tests.conversation.mails import mail
from tests.factories import InquiryFactory, OrganisationFactory
from tests.helpers import fresh


@pytest.fixture
def unsorted(app, db):
    """One e-mail from a stranger in the queue; its id."""
    with app.test_request_context():
        received = receive(
            mail(
                "Hej!\nVi vill göra en konferens om textilier med er.",
                sender="Karin Kask <karin@textilmuseet.se>", subject="Konferens om textilier",
            )
        )  # fmt: skip
        db.session.commit()
    return received.mail_id


def post(client, path, **data):
    return client.post(path, data={"submission_id": new_submission_id(), **data})


def test_the_queue_lists_unsorted_mail_with_its_text(client, db, login_as, unsorted):
    login_as("secretary_general")
    page = client.get("/inbox/unsorted")
    assert page.status_code == 200
    assert "Konferens om textilier" in page.text
    assert "karin@textilmuseet.se" in page.text
    assert "Vi vill göra en konferens" in page.text
    inbox = client.get("/inbox").text
    assert "1 e-postmeddelande väntar på att sorteras" in inbox


def test_attaching_puts_the_mail_on_the_thread(client, db, login_as, unsorted):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = post(
        client, f"/inbox/unsorted/{unsorted}/attach", reference=inquiry.reference.lower()
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/inquiries/{inquiry.reference}#thread-end")
    [message] = db.session.scalars(select(Message)).all()
    assert message.inquiry_id == inquiry.id
    row = db.session.get(InboundMail, unsorted)
    assert (row.status, row.matched_by) == (InboundStatus.ATTACHED, "by_hand")
    assert fresh(db, inquiry).submitter_replied_at is not None
    assert "Konferens" not in client.get("/inbox/unsorted").text


def test_an_unknown_reference_is_shown_by_the_field_and_nothing_moves(
    client, db, login_as, unsorted
):
    login_as("secretary_general")
    response = post(client, f"/inbox/unsorted/{unsorted}/attach", reference="SAM-1999-0001")
    assert response.status_code == 422
    assert re.search(
        rf'id="reference-{unsorted}-error"[^>]*>Det finns ingen förfrågan SAM-1999-0001',
        response.text,
    )
    assert db.session.get(InboundMail, unsorted).status is InboundStatus.UNSORTED


def test_a_new_inquiry_is_made_from_the_mail_with_its_fields_filled_in(
    client, db, login_as, unsorted
):
    OrganisationFactory(name="Textilmuseet", email_domain="textilmuseet.se", type="museum")
    login_as("secretary_general")
    form = client.get(f"/inquiries/new?mail={unsorted}").text
    assert 'value="Karin Kask"' in form
    assert 'value="karin@textilmuseet.se"' in form
    assert 'value="Textilmuseet"' in form
    assert "Vi vill göra en konferens" in form
    response = post(
        client, f"/inquiries/new?mail={unsorted}", from_mail=str(unsorted), channel="email",
        organisation_name="Textilmuseet", organisation_type="museum", contact_name="Karin Kask",
        email="karin@textilmuseet.se", category="research", subject="Konferens om textilier",
        message="Hej!\nVi vill göra en konferens om textilier med er.", addressee="no_preference",
    )  # fmt: skip
    assert response.status_code == 302
    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.channel.value == "email"
    row = db.session.get(InboundMail, unsorted)
    assert (row.status, row.inquiry_id, row.matched_by) == (
        InboundStatus.ATTACHED, inquiry.id, "new",
    )  # fmt: skip


def test_discarding_takes_it_out_of_the_queue_once(client, db, login_as, unsorted):
    login_as("secretary_general")
    assert post(client, f"/inbox/unsorted/{unsorted}/discard").status_code == 302
    assert db.session.get(InboundMail, unsorted).status is InboundStatus.DISCARDED
    again = post(client, f"/inbox/unsorted/{unsorted}/discard")
    assert again.status_code == 409
    assert "redan sorterat" in again.text


def test_the_board_cannot_sort_mail(client, db, login_as, unsorted):
    login_as("board")
    assert client.get("/inbox/unsorted").status_code == 403
    assert post(client, f"/inbox/unsorted/{unsorted}/discard").status_code == 403


def test_staff_can_open_the_whole_message_behind_a_reply(app, client, db, login_as):
    from crm.mail.threading import new_message_id
    from tests.conversation.mails import gmail_reply

    me = login_as("secretary_general")
    inquiry = InquiryFactory(assignee_id=me.id, email="asa.oberg@hembygd-sormland.se")
    with app.test_request_context():
        receive(mail(gmail_reply("Kort svar."), In_Reply_To=new_message_id(inquiry.reference)))
        db.session.commit()
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "Kort svar." in page
    assert "Visa hela meddelandet" in page
    assert "Kan ni skicka en budget?" in page  # the quoted part, inside the details


def upload(client, raw: bytes, name="svar.eml"):
    from io import BytesIO

    return client.post(
        "/inquiries/new/eml",
        data={"submission_id": new_submission_id(), "eml": (BytesIO(raw), name)},
        content_type="multipart/form-data",
    )


def test_an_uploaded_eml_fills_in_the_new_inquiry_form(app, client, db, login_as):
    login_as("secretary_general")
    raw = mail("Vi vill låna ut en utställning.", subject="Utlån 2027",
               sender="Per Persson <per@vasterbotten.se>")  # fmt: skip
    response = upload(client, raw)
    assert response.status_code == 302
    assert "/inquiries/new?mail=" in response.headers["Location"]
    form = client.get(response.headers["Location"]).text
    assert 'value="Per Persson"' in form
    assert "Vi vill låna ut en utställning." in form


def test_an_uploaded_reply_lands_on_its_thread_once(app, client, db, login_as):
    from crm.mail.threading import new_message_id
    from tests.conversation.mails import gmail_reply

    me = login_as("secretary_general")
    inquiry = InquiryFactory(assignee_id=me.id, email="asa.oberg@hembygd-sormland.se")
    with app.app_context():
        ours = new_message_id(inquiry.reference)
    raw = mail(gmail_reply("Svar via fil."), In_Reply_To=ours)
    first, second = upload(client, raw), upload(client, raw)
    assert first.headers["Location"].endswith(f"/inquiries/{inquiry.reference}#thread-end")
    assert second.headers["Location"] == first.headers["Location"]
    assert [m.body for m in db.session.scalars(select(Message))] == ["Svar via fil."]


def test_a_file_that_is_no_email_is_refused_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    response = upload(client, b"%PDF-1.7\n binary", name="budget.pdf")
    assert response.status_code == 422
    assert re.search(r'id="eml-error"[^>]*>Filen är inget e-postmeddelande', response.text)
    assert db.session.scalars(select(InboundMail)).all() == []


def test_an_eml_larger_than_the_other_forms_allow_is_accepted(app, client, db, login_as):
    login_as("secretary_general")
    raw = mail("Lång text. " * 20_000, subject="Stor")  # ~220 kB, above the 64 KiB form limit
    assert len(raw) > app.config["MAX_CONTENT_LENGTH"]
    assert upload(client, raw).status_code == 302
    assert client.post("/follow-ups", data={"title": "x" * 100_000}).status_code == 413


def test_a_jav_declarer_cannot_file_an_eml_into_the_inquiry(app, client, db, login_as):
    from crm.inquiries.services import declare_conflict
    from crm.mail.threading import new_message_id

    me = login_as("chair")
    inquiry = InquiryFactory()
    with app.test_request_context():
        declare_conflict(inquiry, me, "Jävig")
        db.session.commit()
        ours = new_message_id(inquiry.reference)
    response = upload(client, mail("Svar", In_Reply_To=ours))
    assert response.status_code == 403
    assert db.session.scalars(select(InboundMail)).all() == []
