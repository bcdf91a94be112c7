"""The conversation in a real browser: staff reply, the submitter answers on the status page,
the answer waits in the inbox; both thread pages pass axe at desktop and phone width."""

from __future__ import annotations

from tests.e2e.conftest import log_in
from tests.e2e.test_accessibility import check, switch_language
from tests.e2e.test_journeys import an_inquiry


def test_journey_9_a_conversation_both_ways(page_for, live_server):
    reference, status_path = an_inquiry(live_server, status="triaged", note="Kolla budgeten")
    staff = page_for(bypass_csp=True)
    log_in(staff, "secretary_general")
    staff.goto(f"/inquiries/{reference}")
    staff.fill("#reply-body", "Tack! Kan ni skicka en budget?")
    staff.click("button:text-is('Skicka svaret')")
    thread = staff.inner_text("ol.thread")
    assert thread.index("Vi vill göra en utställning") < thread.index("Kan ni skicka en budget?")
    assert "Internt – syns inte för avsändaren" in thread  # the note, marked

    submitter = page_for(bypass_csp=True)
    submitter.goto(status_path)
    assert "Kan ni skicka en budget?" in submitter.inner_text("main")
    assert "Kolla budgeten" not in submitter.inner_text("main")
    submitter.fill("#answer-body", "Budgeten är 40 000 kr.")
    submitter.click("main form button:text-is('Skicka')")
    assert "Tack! Ditt svar är skickat." in submitter.inner_text("main")
    check(submitter, "status-thread", "sv", None)
    switch_language(submitter, "en")
    check(submitter, "status-thread", "en", None)

    staff.goto("/inbox")
    answered = staff.locator("table", has=staff.locator("caption:text-is('Svar från avsändaren')"))
    answered.locator(f"text={reference}").click()
    assert "Budgeten är 40 000 kr." in staff.inner_text("ol.thread")
    assert "Avsändaren svarade" in staff.inner_text(".answered-notice")
    check(staff, "inquiry-thread", "sv", None)
    staff.click("button:text-is('Inget svar behövs')")
    assert staff.locator(".answered-notice").count() == 0
    switch_language(staff, "en")
    check(staff, "inquiry-thread", "en", None)


def test_the_status_page_answer_works_without_javascript(page_for, live_server):
    _reference, status_path = an_inquiry(live_server)
    submitter = page_for(width=390, javascript=False)
    submitter.goto(status_path)
    submitter.click("main form button:text-is('Skicka')")  # empty: the error by the field
    assert "Skriv ditt svar." in submitter.inner_text("#answer-body-error")
    submitter.fill("#answer-body", "Utan JavaScript.")
    submitter.click("main form button:text-is('Skicka')")
    assert "Utan JavaScript." in submitter.inner_text("ol.thread")


def test_the_unsorted_queue_sorts_a_mail_into_a_new_inquiry(page_for, live_server):
    from crm.conversation.inbound import receive
    from crm.extensions import db
    from tests.conversation.mails import mail

    app, _ = live_server
    with app.test_request_context():
        try:
            receive(mail("Vi vill ordna en konferens.", subject="Konferens 2027",
                         sender="Karin Kask <karin@textilmuseet.se>"))  # fmt: skip
            db.session.commit()
        finally:
            db.session.remove()
    staff = page_for(bypass_csp=True)
    log_in(staff, "secretary_general")
    staff.goto("/inbox")
    staff.click("text=väntar på att sorteras")
    check(staff, "unsorted", "sv", None)
    switch_language(staff, "en")
    check(staff, "unsorted", "en", None)
    switch_language(staff, "sv")
    card = staff.locator("article.unsorted-mail", has_text="Konferens 2027")
    card.locator("text=Gör en ny förfrågan av den").click()
    assert staff.input_value("#contact_name") == "Karin Kask"
    staff.select_option("#organisation_type", "museum")
    staff.fill("#organisation_name", "Textilmuseet")
    staff.select_option("#category", "research")
    staff.click("main form button[type=submit]")
    assert "är registrerad" in staff.inner_text("main")
    assert "Vi vill ordna en konferens." in staff.inner_text("ol.thread")
