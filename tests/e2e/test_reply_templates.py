"""Reply templates in a real browser: made on /svarsmallar, used on an inquiry with
"Använd mallen", previewed, changed and sent; every page passes axe and the HTML checker."""

from __future__ import annotations

from tests.e2e.conftest import log_in
from tests.e2e.test_accessibility import check
from tests.e2e.test_journeys import an_inquiry


def test_a_template_is_made_used_previewed_and_sent(page_for, live_server):
    reference, _status_path = an_inquiry(live_server, status="triaged")
    page = page_for(bypass_csp=True)
    log_in(page, "secretary_general")
    page.goto("/svarsmallar/ny")
    page.fill("#name", "Tack, e2e")
    page.check("input[name=scope][value=personal]")
    page.fill("#text_sv", "Hej {kontakt}!\n\nTack för {referens}.\n{handläggare}")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/svarsmallar")
    assert "Tack, e2e" in page.inner_text("main")
    check(page, "reply-templates-rows", "sv", None)

    page.goto(f"/inquiries/{reference}")
    page.select_option("#reply-template", label="Tack, e2e (egen)")
    page.click("button:text-is('Använd mallen')")
    body = page.input_value("#reply-body")
    assert body == f"Hej Åsa Öberg!\n\nTack för {reference}.\nGreta Generalsekreterare"
    check(page, "inquiry-template-used", "sv", None)

    page.click("button:text-is('Förhandsgranska')")
    assert "Förhandsgranska svaret" in page.inner_text("h1")
    assert "asa.oberg@hembygd-sormland.se" in page.inner_text("main")
    check(page, "reply-preview", "sv", None)
    page.click("button:text-is('Ändra')")
    assert page.input_value("#reply-body") == body  # nothing lost going back
    page.fill("#reply-body", body + "\nPS. Välkomna!")
    page.click("button:text-is('Förhandsgranska')")
    page.click("main form button:text-is('Skicka')")
    assert "PS. Välkomna!" in page.inner_text("ol.thread")
