"""A session that runs out while someone writes a long note: they log in again and send it."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Inquiry
from crm.timeutil import utcnow
from tests.e2e.conftest import PASSWORD, PEOPLE, log_in

NOTE = (
    "Samtal med Åsa om budgeten.\n\n"
    "Hon föreslår att förbundet står för transporterna och att vi bidrar med montrar."
)


def idle_for(page, app, minutes: int) -> None:
    """Make the browser's session look idle, as if the person had been writing that long."""
    serializer = app.session_interface.get_signing_serializer(app)
    context = page.context
    (cookie,) = [c for c in context.cookies() if c["name"] == app.config["SESSION_COOKIE_NAME"]]
    session = serializer.loads(cookie["value"])
    session["seen_at"] = (utcnow() - timedelta(minutes=minutes)).isoformat()
    context.add_cookies([{**cookie, "value": serializer.dumps(session)}])


def test_journey_8_a_long_note_survives_an_expired_session(page_for, live_server):
    app, _ = live_server
    with app.app_context():
        reference = db.session.scalar(select(Inquiry.reference).order_by(Inquiry.id).limit(1))
        db.session.remove()
    page = page_for()
    log_in(page, "secretary_general")
    page.goto(f"/inquiries/{reference}")
    page.fill("#note-body", NOTE)
    idle_for(page, app, minutes=31)  # lunch happened

    page.click("button:text-is('Spara anteckning')")

    assert page.inner_text("h1") == "Logga in"
    assert "Din session har gått ut." in page.inner_text("main")
    assert page.input_value("#draft-text-1") == NOTE  # the text is on screen, not lost
    email, _name = PEOPLE["secretary_general"]
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")

    assert page.inner_text("h1") == "Skicka det du skrev"
    assert page.input_value("#draft-text-1") == NOTE
    page.click("main form button:text-is('Skicka')")

    page.wait_for_url(f"**/inquiries/{reference}*")
    assert "Anteckningen är sparad." in page.inner_text("main")
    assert "Hon föreslår att förbundet står för transporterna" in page.inner_text("main")


def test_the_pages_that_hold_a_draft_pass_axe_and_an_outage_keeps_the_text(page_for, live_server):
    """The log-in page with a draft, the page to send it again, and the 503 page: axe-core,
    and the text still there after the database was locked for longer than it waits."""
    from tests.e2e.test_accessibility import run_axe

    def no_serious_violations(name: str) -> None:
        serious = [v["id"] for v in run_axe(page) if v["impact"] in {"serious", "critical"}]
        assert serious == [], f"{name}: {serious}"
        assert page.title().endswith("– Samverka")

    app, _ = live_server
    with app.app_context():
        reference = db.session.scalar(select(Inquiry.reference).order_by(Inquiry.id).limit(1))
        database, dialect = db.engine.url.database, db.engine.dialect.name
        db.session.remove()
    if dialect != "sqlite":
        pytest.skip("locks SQLite's database file; the outage on PostgreSQL has HTTP tests")
    page = page_for(bypass_csp=True)  # only so that axe can be injected
    log_in(page, "secretary_general")
    page.goto(f"/inquiries/{reference}")
    page.fill("#note-body", NOTE + " (axe)")
    idle_for(page, app, minutes=31)
    page.click("button:text-is('Spara anteckning')")
    no_serious_violations("login with a draft")
    email, _name = PEOPLE["secretary_general"]
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    no_serious_violations("send what you wrote")

    lock = sqlite3.connect(database, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # longer than the app waits for it (busy timeout)
        page.click("main form button:text-is('Skicka')", timeout=60_000)
        assert page.inner_text("h1") == "Det gick inte att spara"
        assert page.input_value("#draft-text-1") == NOTE + " (axe)"
        no_serious_violations("database unavailable")
    finally:
        lock.rollback()
        lock.close()
    page.click("main form button:text-is('Skicka igen')")
    page.wait_for_url(f"**/inquiries/{reference}*")
    assert "Anteckningen är sparad." in page.inner_text("main")
