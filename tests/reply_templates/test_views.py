"""Reply templates through HTTP: the management pages, "Använd mallen" without JavaScript,
the reply preview, and the counterpart's case number on the detail page."""

import html
import re

import pytest
from sqlalchemy import func, select

from crm.conversation.models import Message
from crm.core.idempotency import new_submission_id
from crm.mail.models import OutboxMessage
from crm.models import AuditLog, Inquiry, ReplyTemplate
from tests.factories import InquiryFactory, UserFactory


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def textarea(page: str, field_id: str = "reply-body") -> str:
    match = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>\n?(.*?)</textarea>', page, re.S)
    return html.unescape(match.group(1)).lstrip("\r\n")


def make(db, owner=None, **values):
    template = ReplyTemplate(
        name=values.get("name", "Bekräftelse"),
        text_sv=values.get("text_sv", "Hej {kontakt}, tack för {referens}. /{handläggare}"),
        text_en=values.get("text_en", "Dear {kontakt}, thank you for {referens}. /{handläggare}"),
        owner_id=owner.id if owner else None,
    )
    db.session.add(template)
    db.session.commit()
    return template


# ---- "Använd mallen" ----------------------------------------------------------------------


def test_using_a_template_fills_the_reply_without_javascript(client, db, login_as):
    me = login_as("secretary_general", name="Greta Generalsekreterare")
    inquiry = InquiryFactory(contact_name="Anna Andersson")
    template = make(db)
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert 'id="reply-template"' in page
    assert "Använd mallen" in page
    assert textarea(page) == ""
    page = client.get(f"/inquiries/{inquiry.reference}", query_string={"mall": template.id}).text
    assert textarea(page) == (f"Hej Anna Andersson, tack för {inquiry.reference}. /{me.name}")


def test_the_template_comes_in_the_submitters_language_unless_another_is_chosen(
    client, db, login_as
):
    login_as("chair", name="Olof Ordförande")
    inquiry = InquiryFactory(contact_name="Jane Doe", language="en")
    template = make(db)
    path = f"/inquiries/{inquiry.reference}"
    page = client.get(path, query_string={"mall": template.id}).text
    assert textarea(page).startswith("Dear Jane Doe")
    assert '<option selected value="en">' in page
    page = client.get(path, query_string={"mall": template.id, "sprak": "sv"}).text
    assert textarea(page).startswith("Hej Jane Doe")


def test_someone_elses_personal_template_cannot_be_used_or_seen(client, db, login_as):
    other = UserFactory(role="secretary_general")
    theirs = make(db, owner=other, name="Hans egen", text_sv="Hemligt {kontakt}")
    login_as("secretary_general")
    inquiry = InquiryFactory()
    page = client.get(f"/inquiries/{inquiry.reference}", query_string={"mall": theirs.id}).text
    assert "Hemligt" not in page
    assert "Hans egen" not in page
    assert "Mallen finns inte längre" in page
    assert client.get(f"/svarsmallar/{theirs.id}").status_code == 404
    assert client.get(f"/svarsmallar/{theirs.id}/ta-bort").status_code == 404
    assert client.post(f"/svarsmallar/{theirs.id}/ta-bort").status_code == 404
    assert "Hans egen" not in client.get("/svarsmallar").text


def test_the_board_sees_no_reply_form_and_no_template_pages(client, db, login_as):
    login_as("board")
    template = make(db)
    page = client.get(f"/inquiries/{InquiryFactory().reference}?mall={template.id}").text
    assert "reply-template" not in page
    assert "Hej" not in page
    assert client.get("/svarsmallar").status_code == 403
    assert client.get(f"/svarsmallar/{template.id}").status_code == 403


# ---- preview, then send -------------------------------------------------------------------


def test_preview_shows_the_mail_and_sends_nothing_then_send_sends_it_once(client, db, login_as):
    login_as("secretary_general", name="Greta Generalsekreterare")
    inquiry = InquiryFactory(contact_name="Anna Andersson", email="anna@exempel.se")
    path = f"/inquiries/{inquiry.reference}/reply"
    body = "Hej Anna,\n\nVälkomna i maj.\n  Indraget & <b>fett</b>."
    key = new_submission_id()
    preview = client.post(path, data={"body": body, "preview": "1", "submission_id": key})
    assert preview.status_code == 200
    page = preview.text
    assert "Förhandsgranska svaret" in page
    assert "anna@exempel.se" in page
    assert f"[{inquiry.reference}] Svar på din förfrågan" in page
    assert "Skriv ditt svar ovanför den här raden" in page  # the e-mail's text, as sent
    assert "&lt;b&gt;fett&lt;/b&gt;" in page
    assert "<b>fett" not in page
    assert count(db, OutboxMessage) == 0
    assert count(db, Message) == 0
    hidden = re.search(r'<input type="hidden" name="body" value="([^"]*)">', page, re.S)
    assert html.unescape(hidden.group(1)) == body
    assert f'value="{key}"' in page  # the same one-time id goes on to the send
    sent = client.post(path, data={"body": html.unescape(hidden.group(1)), "submission_id": key})
    assert sent.status_code == 302
    again = client.post(path, data={"body": body, "submission_id": key})
    assert again.location == sent.location
    [message] = db.session.scalars(select(Message)).all()
    assert message.body == body
    assert count(db, OutboxMessage, OutboxMessage.kind == "public_reply") == 1


def test_going_back_from_the_preview_keeps_the_text(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    body = "Rad ett\n\nRad två med {klammer} och 100 %"
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply", data={"body": body, "edit": "1"}
    )
    assert response.status_code == 200
    assert textarea(response.text) == body
    assert "Svaret är inte skickat" in response.text
    assert count(db, OutboxMessage) == 0


def test_preview_of_an_empty_reply_is_refused_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply", data={"body": "  ", "preview": "1"}
    )
    assert response.status_code == 422
    assert 'id="reply-body-error"' in response.text


def test_files_chosen_before_the_preview_must_be_chosen_again(client, db, login_as):
    import io

    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply",
        data={"body": "Se bilagan.", "preview": "1",
              "files": (io.BytesIO(b"hej"), "program.txt")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 200
    assert "Välj dem här igen" in response.text
    assert 'type="file"' in response.text


def test_a_reply_to_an_authority_carries_the_allman_handling_note(client, db, login_as):
    login_as("secretary_general")
    agency = InquiryFactory(organisation_type="government_agency")
    museum = InquiryFactory()
    assert "allmän handling" in client.get(f"/inquiries/{agency.reference}").text
    assert "allmän handling" not in client.get(f"/inquiries/{museum.reference}").text


# ---- the management pages -----------------------------------------------------------------


def test_a_personal_template_is_made_and_listed_for_its_owner_only(client, db, login_as):
    login_as("chair")
    response = client.post(
        "/svarsmallar/ny",
        data={"name": "Min hälsning", "scope": "personal", "text_sv": "Hej {kontakt}",
              "text_en": ""},
    )  # fmt: skip
    assert response.status_code == 302
    template = db.session.scalar(select(ReplyTemplate))
    assert template.owner_id is not None
    assert template.text_en is None
    assert "Min hälsning" in client.get("/svarsmallar").text
    assert count(db, AuditLog, AuditLog.action == "reply_template_created") == 1
    client.post("/logout")
    login_as("chair")  # another chair
    assert "Min hälsning" not in client.get("/svarsmallar").text


def test_the_chair_cannot_make_a_shared_template(client, db, login_as):
    login_as("chair")
    page = client.get("/svarsmallar/ny").text
    assert 'value="shared"' not in page
    response = client.post(
        "/svarsmallar/ny", data={"name": "Delad?", "scope": "shared", "text_sv": "Hej"}
    )
    assert response.status_code == 422
    assert count(db, ReplyTemplate) == 0


def test_an_unknown_placeholder_is_shown_beside_its_field(client, db, login_as):
    login_as("secretary_general")
    response = client.post(
        "/svarsmallar/ny",
        data={"name": "Fel", "scope": "shared", "text_sv": "Hej {kontakt}",
              "text_en": "Dear {contact}"},
    )  # fmt: skip
    assert response.status_code == 422
    error = re.search(r'id="text_en-error"[^>]*>(.*?)</p>', response.text, re.S).group(1)
    assert "{contact}" in error
    assert "{kontakt}" in error
    assert "Dear {contact}" in response.text  # what was typed is kept
    assert count(db, ReplyTemplate) == 0


def test_edit_a_shared_template(client, db, login_as):
    login_as("admin")
    template = make(db)
    response = client.get(f"/svarsmallar/{template.id}")
    assert response.status_code == 200
    assert "Delad mall" in response.text
    response = client.post(
        f"/svarsmallar/{template.id}",
        data={"name": "Kvitto", "scope": "shared", "text_sv": "Tack {kontakt}", "text_en": ""},
    )
    assert response.status_code == 302
    template = db.session.get(ReplyTemplate, template.id)
    assert (template.name, template.text_sv, template.text_en) == ("Kvitto", "Tack {kontakt}", None)
    assert template.owner_id is None


def test_the_chair_uses_shared_templates_but_may_not_edit_them(client, db, login_as):
    login_as("chair")
    template = make(db)
    assert "Bekräftelse" in client.get("/svarsmallar").text
    assert client.get(f"/svarsmallar/{template.id}").status_code == 403
    assert client.post(f"/svarsmallar/{template.id}/ta-bort").status_code == 403


def test_delete_asks_first_and_says_what_happens(client, db, login_as):
    login_as("secretary_general")
    template = make(db)
    page = client.get(f"/svarsmallar/{template.id}/ta-bort").text
    assert "Ta bort mallen Bekräftelse?" in page
    assert "försvinner för alla" in page
    assert "redan skickats" in page
    assert count(db, ReplyTemplate) == 1  # asking removes nothing
    response = client.post(
        f"/svarsmallar/{template.id}/ta-bort", data={"submission_id": new_submission_id()}
    )
    assert response.status_code == 302
    assert count(db, ReplyTemplate) == 0
    assert count(db, AuditLog, AuditLog.action == "reply_template_deleted") == 1


def test_the_menu_links_the_templates_for_those_who_may_use_them(client, db, login_as):
    login_as("admin")
    assert 'href="/svarsmallar"' in client.get("/svarsmallar").text
    client.post("/logout")
    login_as("chair")
    assert 'href="/svarsmallar"' in client.get("/inbox").text
    client.post("/logout")
    login_as("board")
    assert 'href="/svarsmallar"' not in client.get("/inbox").text


@pytest.mark.parametrize("path", ["/svarsmallar", "/inquiries/{reference}"])
def test_the_pages_run_the_same_statements_for_few_and_many(db, login_as, statements_for, path):
    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    make(db)
    make(db, owner=me, name="Egen")
    page = path.format(reference=inquiry.reference)
    few = statements_for(page)
    for n in range(30):
        make(db, name=f"Delad {n}")
        make(db, owner=me, name=f"Egen {n}")
        make(db, owner=UserFactory(role="chair"), name=f"Annans {n}")
    assert statements_for(page) == few


# ---- the counterpart's case number --------------------------------------------------------


def test_the_case_number_is_saved_shown_and_searchable(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory(subject="Med diarienummer")
    other = InquiryFactory(subject="Utan diarienummer")
    response = client.post(
        f"/inquiries/{inquiry.reference}/diarienummer",
        data={"counterpart_reference": " RAÄ 3.1.2-2026/45 ", "version": inquiry.version},
    )
    assert response.status_code == 302
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "RAÄ 3.1.2-2026/45" in page
    assert "Motpartens diarienummer: RAÄ 3.1.2-2026/45" in page  # on the timeline
    for term in ("RAÄ 3.1.2-2026/45", "raä 3.1.2", "raä3.1", "RAÄ"):
        listed = client.get("/inquiries", query_string={"q": term}).text
        assert inquiry.reference in listed, term
        assert other.reference not in listed, term
    # only from its start: the middle of a number is no match
    assert inquiry.reference not in client.get("/inquiries", query_string={"q": "2026/45"}).text


def test_a_bad_case_number_is_refused_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/diarienummer",
        data={"counterpart_reference": "x" * 61, "version": inquiry.version},
    )
    assert response.status_code == 422
    assert 'id="counterpart_reference-error"' in response.text
    assert db.session.scalar(select(Inquiry.counterpart_reference)) is None


def test_a_case_number_saved_on_an_old_copy_is_a_conflict(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/diarienummer",
        data={"counterpart_reference": "KS 1", "version": inquiry.version - 1},
    )
    assert response.status_code == 409
    assert db.session.scalar(select(Inquiry.counterpart_reference)) is None


@pytest.mark.parametrize(("chosen", "stored"), [(None, "sv"), ("en", "en")])
def test_the_public_form_remembers_the_language_it_was_sent_in(app, client, db, chosen, stored):
    from tests.public.helpers import form_data

    if chosen:
        client.post("/language", data={"lang": chosen})
    assert client.post("/samverkan", data=form_data(app)).status_code == 302
    assert db.session.scalar(select(Inquiry.language)) == stored
