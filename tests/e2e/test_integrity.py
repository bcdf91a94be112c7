"""Nothing twice, nothing lost, as a person meets it in a real browser."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Inquiry, Note
from tests.e2e.conftest import log_in
from tests.e2e.test_journeys import fill_form


def stored(live_server, query):
    app, _ = live_server
    with app.app_context():
        try:
            return db.session.scalar(query)
        finally:
            db.session.remove()


def send_twice(page, url_glob: str) -> None:
    """Every POST the page makes to these URLs reaches the server twice, as the browser built
    it: a double click, or a retry after a timeout, without depending on click timing."""

    def twice(route):
        if route.request.method != "POST":
            route.continue_()
            return
        route.fetch(max_redirects=0)
        route.fulfill(response=route.fetch(max_redirects=0))

    page.route(url_glob, twice)


def test_a_double_click_on_send_stores_one_inquiry(page_for, live_server):
    page = page_for()
    page.goto("/samverkan")
    fill_form(page, "dubbelklick@exempel.se")
    send_twice(page, "**/samverkan")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/samverkan/tack")
    reference = page.inner_text(".reference")
    count = select(func.count()).where(Inquiry.email == "dubbelklick@exempel.se")
    assert stored(live_server, count) == 1
    assert (
        stored(
            live_server, select(Inquiry.reference).where(Inquiry.email == "dubbelklick@exempel.se")
        )
        == reference
    )


def test_switching_language_keeps_the_half_written_form(page_for, live_server):
    page = page_for(javascript=False)
    page.goto("/samverkan")
    page.fill("#organisation_name", "Halvfärdiga föreningen")
    page.fill("#message", "Det här har jag skrivit hittills.")
    page.click("button[lang=en]")
    assert page.inner_text("h1") == "Propose a collaboration"
    assert page.input_value("#organisation_name") == "Halvfärdiga föreningen"
    assert page.input_value("#message") == "Det här har jag skrivit hittills."
    assert page.locator(".field-error").count() == 0
    page.click("button[lang=sv]")  # and back, for the next test's page
    assert page.inner_text("h1") == "Föreslå ett samarbete"


def test_a_double_click_on_save_note_stores_one_note(page_for, live_server):
    reference = stored(live_server, select(Inquiry.reference).order_by(Inquiry.id).limit(1))
    page = page_for()
    log_in(page, "secretary_general")
    page.goto(f"/inquiries/{reference}")
    page.fill("form[action$='/notes'] textarea", "Dubbelklickad anteckning")
    send_twice(page, "**/notes")
    page.click("button:text-is('Spara anteckning')")
    page.wait_for_selector("text=Dubbelklickad anteckning")
    count = select(func.count()).where(Note.body == "Dubbelklickad anteckning")
    assert stored(live_server, count) == 1
