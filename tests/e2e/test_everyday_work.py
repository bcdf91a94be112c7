"""Issue 18's journeys in a real browser: the secretary general's day (a reply template, tags,
a bulk assignment, an Excel export of the ticked rows) and the chair's yearly report, printed
to A4 and downloaded as a workbook."""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook

from crm.extensions import db
from tests.e2e.conftest import log_in
from tests.e2e.test_accessibility import check
from tests.e2e.test_journeys import an_inquiry

TAG = "Folk och Kultur 2027"


def workbook(download):
    """The downloaded file read by openpyxl (which goes by the name's extension, and the
    browser's temporary file has none)."""
    assert download.suggested_filename.endswith(".xlsx")
    return load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)


def seed_templates(live_server) -> None:
    from crm.reply_templates.services import seed_templates as seed

    app, _ = live_server
    with app.app_context():
        seed()
        db.session.commit()


def test_journey_12_template_tags_bulk_assign_and_excel(page_for, live_server):
    seed_templates(live_server)
    first, _ = an_inquiry(live_server, status="triaged")
    second, _ = an_inquiry(live_server, status="triaged")
    page = page_for()
    log_in(page, "secretary_general")

    # a reply from a shared template, filled in on the server
    page.goto(f"/inquiries/{first}")
    page.select_option("#reply-template", label="Bekräftelse")
    page.click("button:text-is('Använd mallen')")
    body = page.input_value("#reply-body")
    assert "Åsa Öberg" in body
    assert first in body
    assert "{" not in body  # every placeholder filled
    page.click("button:text-is('Skicka svaret')")
    assert "Åsa Öberg" in page.inner_text("ol.thread")

    # both inquiries tagged, the second time with the first one's tag in other letters
    for reference, typed in ((first, TAG), (second, TAG.upper())):
        page.goto(f"/inquiries/{reference}")
        panel = page.locator("section[aria-labelledby=tags-title]")
        panel.locator("input[name=name]").fill(typed)
        panel.locator("button:text-is('Lägg till')").click()
        assert TAG in page.locator("section[aria-labelledby=tags-title]").inner_text()

    # the list by that tag, both ticked, given to the chair in one go
    page.goto("/inquiries?tag=" + TAG.lower())
    listed = page.locator("table tbody tr")
    assert listed.count() == 2
    for reference in (first, second):
        page.check(f"input[aria-label='Markera {reference}']")
    page.select_option("#bulk select[name=assignee]", label="Olof Ordförande")
    page.click("button:text-is('Tilldela')")
    assert re.search(r"2 förfrågningar är ändrade", page.inner_text("main"))
    assert "tag=folk" in page.url  # back on the same filtered list
    assert page.locator("table tbody tr", has_text="Olof Ordförande").count() == 2

    # the ticked rows as an Excel workbook, read back by an independent parser
    for reference in (first, second):
        page.check(f"input[aria-label='Markera {reference}']")
    with page.expect_download() as download:
        page.click("button:text-is('Exportera markerade (Excel)')")
    sheet = workbook(download.value).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header, data = rows[0], rows[1:]
    assert len(data) == 2
    references = {row[header.index("Referens")] for row in data}
    assert references == {first, second}
    assert {row[header.index("Etiketter")] for row in data} == {TAG}


def test_journey_13_the_chair_prints_the_yearly_report(page_for, live_server):
    page = page_for(bypass_csp=True)
    log_in(page, "chair")
    assert page.url.endswith("/inbox")  # the chair handles inquiries; the board lands on /dashboard
    page.goto("/dashboard")
    page.click("a:text-matches('Årsrapport \\\\d{4} för styrelsen')")
    assert page.inner_text("h1").startswith("Årsrapport")
    check(page, "yearly-report-journey", "sv", None)

    # printed: no menu, header or footer, A4 pages, each part on a page of its own
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert not page.locator("footer.site-footer").is_visible()
    parts = page.locator(".report-part")
    assert parts.count() >= 3
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= parts.count()
    page.emulate_media(media="screen")

    # and the same tables as a workbook
    with page.expect_download() as download:
        page.click("a[href*='arsrapport.xlsx']")
    book = workbook(download.value)
    assert len(book.sheetnames) >= 5
