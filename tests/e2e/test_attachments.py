"""Attachments in a real browser: a partner sends a project plan with the public form, a
refused file is named beside the field, staff download the plan and answer with a file the
partner downloads from the status page. The pages pass axe at desktop and phone width."""

from __future__ import annotations

import re
from pathlib import Path

from tests.attachments.samples import executable, pdf
from tests.e2e.conftest import log_in
from tests.e2e.test_accessibility import check
from tests.e2e.test_journeys import fill_form


def test_journey_10_files_travel_both_ways(page_for, live_server, tmp_path):
    plan, bad, contract = (
        tmp_path / "Projektplan 2027.pdf",
        tmp_path / "faktura.pdf",
        tmp_path / "avtal.pdf",
    )
    plan.write_bytes(pdf())
    bad.write_bytes(executable())
    contract.write_bytes(pdf() + b"%avtal")

    partner = page_for(bypass_csp=True)
    partner.goto("/samverkan")
    fill_form(partner, "asa.oberg@hembygd-sormland.se")
    partner.set_input_files("#files", [str(plan), str(bad)])
    partner.click("main form button[type=submit]")
    assert "”faktura.pdf”" in partner.inner_text("#files-error")
    assert partner.input_value("#subject") == "Vandringsutställning om sörmländska gårdar"
    check(partner, "form-file-error", "sv", None)
    partner.set_input_files("#files", [str(plan)])
    partner.click("main form button[type=submit]")
    partner.wait_for_url("**/samverkan/tack")
    reference = re.search(r"SAM-\d{4}-\d{4}", partner.inner_text(".reference")).group(0)
    status_link = partner.get_attribute("a[href*='/samverkan/status/']", "href")

    staff = page_for(bypass_csp=True)
    log_in(staff, "secretary_general")
    staff.goto(f"/inquiries/{reference}")
    with staff.expect_download() as download:
        staff.click("ol.thread a:text-is('Projektplan 2027.pdf')")
    assert download.value.suggested_filename == "Projektplan 2027.pdf"
    assert Path(download.value.path()).read_bytes() == pdf()
    staff.fill("#reply-body", "Här är avtalsutkastet.")
    staff.set_input_files("#reply-files", [str(contract)])
    staff.click("button:text-is('Skicka svaret')")
    assert "avtal.pdf" in staff.inner_text("ol.thread")
    check(staff, "thread-with-files", "sv", None)

    partner.goto(status_link)
    with partner.expect_download() as download:
        partner.click("ol.thread a:text-is('avtal.pdf')")
    assert Path(download.value.path()).read_bytes() == pdf() + b"%avtal"
    check(partner, "status-with-files", "sv", None)
