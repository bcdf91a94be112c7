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


def test_v5_3_3_braces_and_markup_in_names_and_templates_are_text_everywhere(client, db, login_as):
    """A contact, writer or template holding `{…}`, `%(…)s`, Jinja or HTML: shown as text on
    the pages, never expanded twice, plain in the text e-mail and escaped in its HTML."""
    login_as("secretary_general", name="<b>Greta</b> {referens}")
    inquiry = InquiryFactory(contact_name="<img src=x>{organisation}%(x)s{{ 7*7 }}")
    template = make(
        db, name="<i>Mall</i>", text_sv="Hej {kontakt} <u>u</u> {{ 7*7 }} /{handläggare}"
    )
    listed = client.get("/svarsmallar").text
    assert "<i>Mall</i>" not in listed
    assert "&lt;i&gt;Mall&lt;/i&gt;" in listed
    page = client.get(f"/inquiries/{inquiry.reference}", query_string={"mall": template.id}).text
    for markup in ("<i>Mall", "<img src=x>", "<u>u</u>"):
        assert markup not in page
    body = textarea(page)
    expected = (
        "Hej <img src=x>{organisation}%(x)s{{ 7*7 }} <u>u</u> {{ 7*7 }} /<b>Greta</b> {referens}"
    )
    assert body == expected
    path = f"/inquiries/{inquiry.reference}/reply"
    key = new_submission_id()
    preview = client.post(path, data={"body": body, "preview": "1", "submission_id": key}).text
    for markup in ("<img src=x>", "<b>Greta", "<u>u</u>"):
        assert markup not in preview
    assert "{{ 7*7 }}" in html.unescape(preview)  # the text as written, not evaluated
    assert client.post(path, data={"body": body, "submission_id": key}).status_code == 302
    mail = db.session.scalar(select(OutboxMessage))
    assert expected in mail.body_text
    assert "<img src=x>" not in mail.body_html
    assert "&lt;img src=x&gt;" in mail.body_html


@pytest.mark.parametrize(
    "junk", ["", "abc", "-1", "1e3", "٣", "²", "１", "1\x00", "9" * 30, "1 OR 1=1", "x" * 5000]
)
def test_junk_in_mall_and_sprak_is_ignored(client, db, login_as, junk):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    make(db)
    response = client.get(
        f"/inquiries/{inquiry.reference}", query_string={"mall": junk, "sprak": junk}
    )
    assert response.status_code == 200
    assert textarea(response.text) == ""


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


def test_preview_change_preview_send_loses_nothing_and_sends_once(client, db, login_as):
    """One one-time id carries the whole round: neither the preview nor "Ändra" uses it up,
    and a double click on "Skicka" at the end still sends one reply."""
    login_as("secretary_general")
    inquiry = InquiryFactory()
    path = f"/inquiries/{inquiry.reference}/reply"
    body = "Rad 1\n\n  indrag \"citat\" & 'x' <tag> {kontakt} 100 %\n\tflik"
    key = new_submission_id()

    def hidden_body(page: str) -> str:
        return html.unescape(re.search(r'name="body" value="([^"]*)"', page, re.S).group(1))

    first = client.post(path, data={"body": body, "preview": "1", "submission_id": key})
    assert hidden_body(first.text) == body
    back = client.post(path, data={"body": hidden_body(first.text), "edit": "1",
                                   "submission_id": key})  # fmt: skip
    assert back.status_code == 200
    assert textarea(back.text) == body
    assert f'value="{key}"' in back.text
    second = client.post(path, data={"body": textarea(back.text), "preview": "1",
                                      "submission_id": key})  # fmt: skip
    assert hidden_body(second.text) == body
    sent = [client.post(path, data={"body": body, "submission_id": key}) for _ in range(2)]
    assert [response.status_code for response in sent] == [302, 302]
    assert count(db, Message) == 1
    assert db.session.scalar(select(Message.body)) == body
    assert count(db, OutboxMessage, OutboxMessage.kind == "public_reply") == 1


def test_the_preview_does_not_show_the_submitters_private_status_link(client, db, login_as):
    """The status link is the submitter's key to their status page (where they answer as
    themselves; ASVS 4.2.1); staff never see it, so the preview names it instead. The e-mail
    sent still carries it."""
    from crm.inquiries.intake import status_link_token
    from crm.tokens import hash_token

    login_as("secretary_general")
    inquiry = InquiryFactory(
        status_link_seed="frö", status_token_hash=hash_token(status_link_token("frö"))
    )
    token = status_link_token("frö")
    path = f"/inquiries/{inquiry.reference}/reply"
    key = new_submission_id()
    preview = client.post(path, data={"body": "Hej!", "preview": "1", "submission_id": key})
    assert preview.status_code == 200
    assert token not in preview.text
    assert "avsändarens personliga länk" in preview.text
    assert client.post(path, data={"body": "Hej!", "submission_id": key}).status_code == 302
    assert token in db.session.scalar(select(OutboxMessage.body_text))


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


def test_files_chosen_on_the_preview_are_not_silently_lost_by_going_back(client, db, login_as):
    """The "Ändra" button cannot carry chosen files back to the inquiry page either: the
    person is told to choose them again rather than find the reply sent without them."""
    import io

    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply",
        data={"body": "Se bilagan.", "edit": "1", "files": (io.BytesIO(b"hej"), "program.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert textarea(response.text) == "Se bilagan."
    assert "Välj dem igen" in response.text
    plain = client.post(f"/inquiries/{inquiry.reference}/reply", data={"body": "x", "edit": "1"})
    assert "Välj dem igen" not in plain.text


def test_no_preview_for_an_inquiry_the_writer_is_javig_on(client, db, login_as):
    from crm.inquiries.models import ConflictDeclaration

    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    db.session.add(ConflictDeclaration(inquiry_id=inquiry.id, user_id=me.id, reason="släkt"))
    db.session.commit()
    template = make(db)
    page = client.get(f"/inquiries/{inquiry.reference}", query_string={"mall": template.id}).text
    assert "Hej Anna" not in page
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply", data={"body": "Hej", "preview": "1"}
    )
    assert response.status_code == 403
    assert "Förhandsgranska svaret" not in response.text


def test_preview_of_an_empty_reply_is_refused_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply", data={"body": "  ", "preview": "1"}
    )
    assert response.status_code == 422
    assert 'id="reply-body-error"' in response.text


@pytest.mark.parametrize("button", [{"preview": "1"}, {}])
def test_a_reply_to_an_inquiry_anonymised_meanwhile_says_why_it_was_refused(
    client, db, login_as, button
):
    """The reply box is gone from an anonymised inquiry's page, so the refusal cannot stand
    beside it: it must still be on the page."""
    from crm.privacy.services import anonymise_inquiry

    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    anonymise_inquiry(inquiry, me, reason="erasure_request")
    db.session.commit()
    response = client.post(f"/inquiries/{inquiry.reference}/reply", data={"body": "Hej!", **button})
    assert response.status_code == 422
    assert "Personuppgifterna i förfrågan är borttagna" in response.text
    assert count(db, OutboxMessage) == 0


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


def test_v5_3_4_wildcards_in_a_case_number_search_are_literal(client, db, login_as):
    from crm.inquiries.services import set_counterpart_reference

    me = login_as("secretary_general")
    percent, plain = InquiryFactory(), InquiryFactory()
    set_counterpart_reference(percent, "Dnr 100%_a", me)
    set_counterpart_reference(plain, "Dnr 100xxa", me)
    db.session.commit()
    for term, found in [("dnr100%", [percent]), ("DNR 100%_", [percent]), ("dnr 100_", []),
                        ("dnr%", []), ("%", []), ("_", []), ("dnr\\", [])]:  # fmt: skip
        listed = client.get("/inquiries", query_string={"q": term}).text
        assert [i for i in (percent, plain) if i.reference in listed] == found, term


def test_a_case_number_searched_as_a_quoted_phrase_is_found(client, db, login_as):
    """The list's search keeps a "quoted phrase" whole, so people quote a number with a space
    in it; the quotes are no part of the number."""
    from crm.inquiries.services import set_counterpart_reference

    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    set_counterpart_reference(inquiry, "KS 2026/123", me)
    db.session.commit()
    for term in ('"KS 2026/123"', '"ks 2026/12"', ' "KS 2026" '):
        assert inquiry.reference in client.get("/inquiries", query_string={"q": term}).text, term


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
    # the number typed is given back in view, not folded away in the side panel
    details = re.search(r"<details[^>]*>\s*<summary>[^<]*diarienummer", response.text).group(0)
    assert "<details open>" in details
    assert 'value="KS 1"' in response.text


@pytest.mark.parametrize(("chosen", "stored"), [(None, "sv"), ("en", "en")])
def test_the_public_form_remembers_the_language_it_was_sent_in(app, client, db, chosen, stored):
    from tests.public.helpers import form_data

    if chosen:
        client.post("/language", data={"lang": chosen})
    assert client.post("/samverkan", data=form_data(app)).status_code == 302
    assert db.session.scalar(select(Inquiry.language)) == stored
