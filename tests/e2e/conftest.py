"""Real-browser tests: the real app on 127.0.0.1 with a fresh database and a real SMTP server.

Chromium comes from Debian's package (`make install-browser`, part of `make test`); Playwright
only drives it and never downloads a browser.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import TestConfig
from crm import create_app
from tests.conftest import scratch_database
from tests.smtp import Inbox, free_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "e2e-lösenord-som-är-långt"
PEOPLE = {
    "secretary_general": ("greta@e2e.example", "Greta Generalsekreterare"),
    "chair": ("olof@e2e.example", "Olof Ordförande"),
    "board": ("stina@e2e.example", "Stina Styrelseledamot"),
    "admin": ("adam@e2e.example", "Adam Administratör"),
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory) -> str:
    base = os.environ.get("DATABASE_URL")
    if not base:
        return "sqlite:///" + str(tmp_path_factory.mktemp("e2e") / "e2e.sqlite3")
    return scratch_database(base, "e2e")


@pytest.fixture(scope="session")
def smtp_inbox():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(scope="session")
def live_server(e2e_database_url, smtp_inbox):
    """The app served by Werkzeug in a thread, with seed data and one user per role."""
    from flask_migrate import upgrade

    from crm.auth.services import create_user
    from crm.demo import DemoData
    from crm.extensions import db
    from crm.partners.services import seed_partners

    port = free_port()
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = e2e_database_url
    app = create_app(
        config,
        TESTING=False,
        WTF_CSRF_ENABLED=True,
        FORM_MIN_FILL_SECONDS=0,  # a browser driven by a test fills the form in milliseconds
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_inbox[1],
        BASE_URL=f"http://127.0.0.1:{port}",
    )
    with app.app_context():
        upgrade()
        for role, (email, name) in PEOPLE.items():
            create_user(email, name, role, PASSWORD)
        seed_partners()
        demo = DemoData(seed=7)
        demo.inquiries(40, demo.organisations(10))
        db.session.add(_failed_mail())  # so the admin's mail page shows its table
        db.session.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def _failed_mail():
    from crm.mail.models import OutboxMessage, OutboxStatus

    return OutboxMessage(
        kind="receipt", recipient="borta@exempel.se", subject="Tack", body_text="Tack",
        status=OutboxStatus.FAILED, attempts=57, last_error="SMTPRecipientsRefused: 550",
    )  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make install-browser` (Debian's chromium package)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page_for(browser, live_server):
    """A fresh browser page (own cookies); `javascript=False` turns scripts off."""
    contexts = []

    def open_page(width: int = 1280, javascript: bool = True, bypass_csp: bool = False):
        # bypass_csp only lets the axe tests inject axe.min.js; journeys run under the real CSP.
        context = browser.new_context(
            viewport={"width": width, "height": 900}, java_script_enabled=javascript,
            base_url=live_server[1], locale="sv-SE", bypass_csp=bypass_csp,
        )  # fmt: skip
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, role: str) -> None:
    email, _ = PEOPLE[role]
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/*")


VNU = Path(__file__).resolve().parents[2] / ".tools/node_modules/vnu-jar/build/dist/vnu.jar"
HTML_CHECKER: dict[str, str] = {}


@pytest.fixture(scope="session", autouse=True)
def html_checker(tmp_path_factory):
    """The Nu HTML Checker (vnu-jar, installed by `make install-vnu`) as a local web service
    for the session, so each page the browser tests look at is checked in milliseconds."""
    import subprocess
    import time
    import urllib.request

    if not VNU.exists():
        pytest.fail(f"{VNU} is missing: run `make install-vnu`")
    port = free_port()
    log = open(tmp_path_factory.mktemp("vnu") / "vnu.log", "w")  # noqa: SIM115 (closed below)
    java = shutil.which("java") or "java"
    process = subprocess.Popen(
        [java, "-Xss1m", "-cp", str(VNU), "nu.validator.servlet.Main", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the Nu HTML Checker did not start within 60 s")
    HTML_CHECKER["url"] = url
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def html_errors(html: str) -> list[str]:
    """The Nu HTML Checker's errors for a page's HTML, one line each."""
    import json
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (http on loopback, our checker)
        HTML_CHECKER["url"] + "?out=json", data=html.encode("utf-8"),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (our checker)
        messages = json.loads(response.read())["messages"]
    return [
        f"line {m.get('lastLine')}: {m['message']} «{m.get('extract', '').strip()[:80]}»"
        for m in messages
        if m["type"] == "error"
    ]
