"""The main journeys, each as a person would do it, in a real browser.

Each journey can run alone: what it starts from (an inquiry in the state it needs) is made
through the services, and the journey itself is done in the browser.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

from sqlalchemy import select

from crm.extensions import db
from crm.mail.services import send_pending
from crm.timeutil import local_today
from tests.e2e.conftest import PEOPLE, log_in


def an_inquiry(live_server, *, status=None, assignee=None, note=None, call=None) -> tuple[str, str]:
    """A new inquiry from the public form's service, moved to `status` and given to the person
    with role `assignee` if asked; returns its reference and its status page's path."""
    from crm.auth.models import User
    from crm.choices import Category, OrganisationType
    from crm.inquiries import services
    from crm.inquiries.intake import IntakeData, submit_inquiry
    from crm.inquiries.statuses import Status

    app, _ = live_server
    with app.app_context():
        try:
            data = IntakeData(
                organisation_name="Sörmlands hembygdsförbund",
                organisation_type=OrganisationType.CIVIL_SOCIETY,
                contact_name="Åsa Öberg", email="asa.oberg@hembygd-sormland.se",
                category=Category.EXHIBITION, consent=True,
                subject="Vandringsutställning om sörmländska gårdar",
                message="Hej!\nVi vill göra en utställning tillsammans med er.",
            )  # fmt: skip
            inquiry, token = submit_inquiry(data)
            # by address: other tests invite more people with the same role, and without an
            # order PostgreSQL may return any of them
            staff = db.session.scalar(
                select(User).where(User.email == PEOPLE[assignee or "secretary_general"][0])
            )
            if status:
                services.change_status(inquiry, Status(status), staff)
            if assignee:
                services.assign(inquiry, staff, staff)
            if note:
                from crm.activity.services import add_note

                add_note(note, staff, inquiry=inquiry)
            if call:
                from crm.choices import Channel
                from crm.timeutil import utcnow

                services.log_contact(inquiry, Channel.PHONE, call, utcnow(), staff)
            reference = inquiry.reference
            db.session.commit()
        finally:
            db.session.remove()
    return reference, f"/samverkan/status/{token}"


def fill_form(page, email_address: str | None) -> None:
    page.fill("#organisation_name", "Sörmlands hembygdsförbund")
    page.select_option("#organisation_type", "civil_society")
    page.fill("#contact_name", "Åsa Öberg")
    if email_address is not None:
        page.fill("#email", email_address)
    page.select_option("#category", "exhibition")
    page.check("label[for=regions-2] input")
    page.fill("#subject", "Vandringsutställning om sörmländska gårdar")
    page.fill("#message", "Hej!\nVi vill göra en utställning tillsammans med er.")
    page.check("#consent")


def submit_and_get_reference(page, mail_to: str) -> str:
    page.goto("/samverkan")
    fill_form(page, None)
    page.click("main form button[type=submit]")
    # the error is beside the field, and what was typed is still there
    assert page.locator("#email-error").inner_text() == "Ange din e-postadress."
    assert page.get_attribute("#email", "aria-describedby") == "email-hint email-error"
    assert page.input_value("#subject") == "Vandringsutställning om sörmländska gårdar"
    assert page.is_checked("#consent")
    page.fill("#email", mail_to)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/samverkan/tack")
    return re.search(r"SAM-\d{4}-\d{4}", page.inner_text(".reference")).group(0)


def receipt_for(live_server, smtp_inbox, recipient: str, reference: str):
    """The receipt for this inquiry; other journeys write to the same person too."""
    app, _ = live_server
    with app.app_context():
        send_pending()
        db.session.remove()
    for _, recipients, raw in smtp_inbox[0].messages:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if recipients == [recipient] and f"[{reference}] Tack" in message["Subject"]:
            return message
    raise AssertionError(f"no receipt for {reference} to {recipient}")


def test_journey_1_outside_party_submits_and_gets_a_receipt(page_for, live_server, smtp_inbox):
    page = page_for()
    reference = submit_and_get_reference(page, "asa.oberg@hembygd-sormland.se")
    assert "Tack för din förfrågan" in page.inner_text("h1")
    receipt = receipt_for(live_server, smtp_inbox, "asa.oberg@hembygd-sormland.se", reference)
    body = receipt.get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:\d+(/samverkan/status/\S+)", body).group(1)
    assert page.goto(link).ok
    assert reference in page.inner_text("h1")


def test_journey_2_secretary_general_triages(page_for, live_server):
    reference, _ = an_inquiry(live_server)
    page = page_for()
    log_in(page, "secretary_general")
    page.goto("/inbox")
    page.click(f"text={reference}")
    page.fill("#organisation_name", "Sveriges Hembygdsförbund")
    page.click("button[name=action][value=link]")
    assert "Kopplad till Sveriges Hembygdsförbund." in page.inner_text("main")
    page.select_option("#status", "triaged")
    page.click("button:text-is('Ändra status')")
    assert page.inner_text(".summary-line .badge") == "Bedömd"
    page.fill("#note-body", "Intern: ring Åsa om budgeten.")
    page.click("button:text-is('Spara anteckning')")
    assert "Besvarad" not in page.inner_text(".summary-line")  # internal work answers nobody
    # a call to Åsa is the first response; the time field is filled in with now
    assert page.input_value("#happened_at")
    page.click("summary:text-is('Registrera kontakt')")
    page.select_option("#channel", "phone")
    page.fill("#summary", "Ringde Åsa: vi tar upp utställningen i styrelsen.")
    page.click("button:text-is('Spara kontakt')")
    assert "Besvarad" in page.inner_text(".summary-line")
    assert "Kontakt med avsändaren (Telefon): Ringde Åsa" in page.inner_text(".timeline")
    page.click("summary:has-text('Ny uppföljning')")
    page.fill("#title", "Återkoppla till Åsa")
    page.fill("#due_on", (local_today() + timedelta(days=7)).isoformat())
    page.click("button:text-is('Spara uppföljning')")
    assert "Återkoppla till Åsa" in page.inner_text("main")
    chair_id = page.locator("#assignee option", has_text="Olof Ordförande").get_attribute("value")
    page.select_option("#assignee", chair_id)
    page.click("button:text-is('Tilldela')")
    assert "Ansvarig: Olof Ordförande" in page.inner_text(".summary-line")


def test_journey_3_chair_declares_a_conflict_of_interest(page_for, live_server):
    reference, _ = an_inquiry(live_server, status="triaged", assignee="chair")
    page = page_for()
    log_in(page, "chair")
    page.goto("/pipeline")
    card = page.locator(".board-column", has_text="Bedömd").locator(".card", has_text=reference)
    assert card.count() == 1
    card.locator(".card-ref a", has_text=reference).click()
    page.click("summary:text-is('Anmäl jäv')")
    page.fill("#reason", "Jag sitter i förbundets styrelse.")
    page.click("button:text-is('Anmäl jäv och lämna över')")
    assert "Förfrågan är överlämnad till Greta Generalsekreterare." in page.inner_text(".flashes")
    assert "Ansvarig: Greta Generalsekreterare" in page.inner_text(".summary-line")
    assert "Jäv anmält: Jag sitter i förbundets styrelse." in page.inner_text(".timeline")
    # from now on the chair reads it, with a notice, and can do nothing to it
    assert "Du har anmält jäv för den här förfrågan" in page.inner_text("main")
    assert page.locator("main form").count() == 0
    assert "Jag sitter i förbundets styrelse." in page.inner_text("#conflict-title + ul")
    page.goto("/pipeline")
    card = page.locator(".board-column", has_text="Bedömd").locator(".card", has_text=reference)
    assert card.locator("button").count() == 0
    # the secretary general finds it among what was handed over and not yet opened
    other = page_for()
    log_in(other, "secretary_general")
    other.goto("/inbox")
    unseen = other.locator(
        "table", has=other.locator("caption:text-is('Tilldelade dig, inte öppnade')")
    )
    assert reference in unseen.inner_text()


def test_journey_4_submitter_follows_the_status_and_withdraws(page_for, live_server):
    _, status_link = an_inquiry(
        live_server, status="triaged", note="Intern: ring Åsa om budgeten.",
        call="Vi tar upp utställningen i styrelsen.",
    )  # fmt: skip
    page = page_for()
    page.goto(status_link)
    main = page.inner_text("main")
    assert "Bedömd" in main
    assert "Första svar" in main  # the call
    assert "ring Åsa om budgeten" not in page.content()
    assert (
        "tar upp utställningen i styrelsen" not in page.content()
    )  # the call's summary is internal
    page.click("text=Återkalla förfrågan")
    page.click("button:text-is('Ja, återkalla förfrågan')")
    assert "Din förfrågan är återkallad." in page.inner_text("main")
    assert "Återkallad" in page.inner_text(".badge")


def has_visible_focus(page) -> bool:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return false;
            const style = getComputedStyle(el);
            const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
            return outline || style.boxShadow !== 'none';
        }"""
    )


def tab_to(page, element_id: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert has_visible_focus(page), page.evaluate("document.activeElement.outerHTML")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_journey_5_keyboard_only(page_for, live_server, smtp_inbox):
    page = page_for()
    page.goto("/samverkan")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert has_visible_focus(page)
    page.keyboard.press("Enter")
    typed = (
        ("organisation_name", "Kalmar läns hembygdsförbund"),
        ("contact_name", "Kim Karlsson"),
        ("email", "kim@kalmar-hembygd.se"),
    )
    for field, value in typed:
        tab_to(page, field)
        page.keyboard.type(value)
    tab_to(page, "subject")
    page.keyboard.type("Gemensamt skolprogram")
    page.keyboard.down("Shift")
    page.keyboard.press("Tab")  # Shift-Tab moves back out of the field again
    page.keyboard.up("Shift")
    assert page.evaluate("document.activeElement.id") != "subject"
    tab_to(page, "message")
    page.keyboard.type("Vi vill samarbeta kring skolprogram.")
    tab_to(page, "consent")
    page.keyboard.press("Space")
    assert page.is_checked("#consent")
    # selects and radios by keyboard too
    page.focus("#organisation_type")
    page.keyboard.press("ArrowDown")
    page.focus("#category")
    page.keyboard.press("ArrowDown")
    page.focus("#consent")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_url("**/samverkan/tack")
    reference = re.search(r"SAM-\d{4}-\d{4}", page.inner_text(".reference")).group(0)
    # no trap: Tab walks through the page and out of it (focus returns to the document)
    seen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.tagName"))
        if seen[-1] == "BODY":
            break
    assert seen[-1] == "BODY", seen
    assert len(seen) > 3
    receipt_for(live_server, smtp_inbox, "kim@kalmar-hembygd.se", reference)


def test_journey_6_without_javascript(page_for):
    page = page_for(javascript=False)
    reference = submit_and_get_reference(page, "nojs@exempel.se")
    staff = page_for(javascript=False)
    log_in(staff, "secretary_general")
    staff.goto("/inquiries?q=" + reference)
    staff.click(f"text={reference}")
    staff.select_option("#status", "triaged")
    staff.click("button:text-is('Ändra status')")
    assert staff.inner_text(".summary-line .badge") == "Bedömd"
    staff.fill("#note-body", "Utan JavaScript går det också.")
    staff.click("button:text-is('Spara anteckning')")
    assert "Utan JavaScript går det också." in staff.inner_text("main")
    assert "Besvarad" not in staff.inner_text(".summary-line")
    staff.click("summary:text-is('Registrera kontakt')")
    staff.select_option("#channel", "meeting")
    staff.fill("#summary", "Träffades på länsmuseet.")
    staff.click("button:text-is('Spara kontakt')")
    assert "Besvarad" in staff.inner_text(".summary-line")


def test_journey_7_language_switch_sticks(page_for):
    page = page_for()
    page.goto("/samverkan")
    page.click("button[lang=en]")
    assert page.inner_text("h1") == "Propose a collaboration"
    assert page.get_attribute("html", "lang") == "en"
    page.goto("/integritet")
    assert page.inner_text("h1") == "How we handle your personal data"
    page.click("button[lang=sv]")
    assert page.inner_text("h1") == "Så behandlar vi dina personuppgifter"
    page.goto("/")
    assert page.get_attribute("html", "lang") == "sv"
