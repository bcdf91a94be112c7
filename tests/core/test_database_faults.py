"""When the database fails: a clear 503, one log line, and the person's work kept.

PostgreSQL is cut with a real TCP proxy in the test process (tests/proxy.py); the shared server
is never touched. SQLite has no network; its equivalents are a held write lock and a full pool.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from werkzeug.datastructures import MultiDict

from crm.extensions import db as _db
from crm.models import Inquiry, Note
from tests.conftest import TEST_PASSWORD, make_app
from tests.factories import InquiryFactory, UserFactory
from tests.html import csrf_token, form_posting_to, without_csrf
from tests.proxy import BOTH, TO_CLIENT, TcpProxy
from tests.public.helpers import form_data

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="cuts the network line to PostgreSQL; SQLite has none (see the write-lock tests)",
)
postgres_settings = pytest.mark.skipif(
    not ON_POSTGRES, reason="libpq's connection settings; SQLite's have their own test"
)
sqlite_only = pytest.mark.skipif(
    ON_POSTGRES, reason="SQLite's database-wide write lock; PostgreSQL's is the statement timeout"
)
# Small bounds so a fault shows quickly; production defaults are in config.py.
QUICK = {
    "DATABASE_CONNECT_TIMEOUT": 2,
    "DATABASE_STATEMENT_TIMEOUT": 2,
    "DATABASE_NETWORK_TIMEOUT": 2,
    "DATABASE_POOL_TIMEOUT": 2,
    "SQLITE_BUSY_TIMEOUT": 0.2,
}
# The longest a fault test waits for an answer: a regression fails instead of hanging.
GENEROUS = 60
NOTE = 'Ringde Anna.\nHon vill ha <b>"svar"</b> & förslag</textarea><script>alert(1)</script>'


@pytest.fixture
def cut(database, committed):
    """A proxy to the suite's database and a builder of apps that reach it through the proxy."""
    proxy = TcpProxy.for_url(database) if ON_POSTGRES else None
    apps = []

    def build(**overrides):
        url = proxy.url(database) if proxy else database
        app = make_app(url, **{"WTF_CSRF_ENABLED": True, **QUICK, **overrides})
        apps.append(app)
        return app

    yield proxy, build
    if proxy:
        proxy.close()  # before the tables are emptied: a held transaction would block that
    for app in apps:
        with app.app_context():
            _db.engine.dispose()


def logged_in(app, role="secretary_general"):
    """A client logged in through `app` while the database is up, and an inquiry to work on."""
    user = UserFactory(role=role)
    email, reference = user.email, InquiryFactory(assignee_id=user.id).reference
    _db.session.remove()
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get(f"/inquiries/{reference}")
    assert page.status_code == 200
    return client, reference, csrf_token(page.text)


def problems(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


def notes_saying(text: str) -> int:
    _db.session.remove()
    return _db.session.scalar(select(func.count()).select_from(Note).where(Note.body == text))


def answer_within(seconds: float, call):
    """Run `call` in a thread; fail if it has not answered in time (instead of hanging)."""
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("response", call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    return outcome["response"]


def assert_one_log_line(caplog, *expected: str) -> None:
    lines = problems(caplog)
    assert len(lines) == 1, [record.getMessage() for record in lines]
    (line,) = lines
    assert line.exc_info is None
    assert line.stack_info is None
    assert "\n" not in line.getMessage()
    for text in expected:
        assert text in line.getMessage()


# Refused, dropped, silent: PostgreSQL through the proxy


@postgres_only
def test_refused_connections_answer_503_and_log_one_line(cut, caplog):
    proxy, build = cut
    client, reference, _token = logged_in(build())
    proxy.refuse()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.get(f"/inquiries/{reference}")
    assert response.status_code == 503
    assert "<h1>Tjänsten är tillfälligt otillgänglig</h1>" in response.text
    assert "Vi når inte databasen just nu" in response.text
    assert "Inkorg" not in response.text  # rendered as for a visitor: no menu, no counts
    assert_one_log_line(caplog, "database unavailable", "GET", "Connection refused")


@postgres_only
def test_the_503_page_is_in_english_too(cut):
    proxy, build = cut
    client, reference, token = logged_in(build())
    client.post("/language", data={"lang": "en", "csrf_token": token})
    proxy.refuse()
    response = client.get(f"/inquiries/{reference}")
    assert response.status_code == 503
    assert "<h1>Service temporarily unavailable</h1>" in response.text
    assert '<html lang="en"' in response.text


@postgres_only
def test_a_silent_cut_gets_503_from_healthz_instead_of_a_hang(cut):
    proxy, build = cut
    client = build().test_client()
    assert client.get("/healthz").status_code == 200  # a pooled connection now exists
    proxy.blackhole()
    response = answer_within(GENEROUS, lambda: client.get("/healthz"))
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
    proxy.restore()
    assert client.get("/healthz").status_code == 200  # and it recovers by itself


@postgres_only
def test_a_silent_cut_during_a_page_gets_the_503_page(cut, caplog):
    proxy, build = cut
    client, reference, _token = logged_in(build())
    proxy.blackhole()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = answer_within(GENEROUS, lambda: client.get(f"/inquiries/{reference}"))
    assert response.status_code == 503
    assert_one_log_line(caplog, "database unavailable")


@postgres_only
def test_a_post_during_an_outage_gives_the_text_back_to_send_again(cut):
    proxy, build = cut
    client, reference, token = logged_in(build())
    action = f"/inquiries/{reference}/notes"
    proxy.refuse()
    response = client.post(action, data={"body": NOTE, "csrf_token": token})
    assert response.status_code == 503
    assert "<h1>Det gick inte att spara</h1>" in response.text
    assert "har inte sparats" in response.text
    form = form_posting_to(response.text, action)
    assert without_csrf(form["fields"]) == [("body", NOTE)]
    assert [text for _attributes, text in form["texts"]] == [NOTE]
    assert "<script>alert(1)" not in response.text  # escaped, never markup
    proxy.restore()
    again = client.post(action, data=MultiDict(form["fields"]))
    assert again.status_code == 302
    assert notes_saying(NOTE) == 1


@postgres_only
def test_the_public_form_keeps_every_field_during_an_outage(cut):
    proxy, build = cut
    app = build()
    client = app.test_client()
    token = csrf_token(client.get("/samverkan").text)
    proxy.refuse()
    posted = MultiDict(form_data(app, message=NOTE, csrf_token=token))
    response = client.post("/samverkan", data=posted)
    assert response.status_code == 503
    form = form_posting_to(response.text, "/samverkan")
    expected = [(name, value) for name, value in posted.items(multi=True) if name != "csrf_token"]
    assert sorted(without_csrf(form["fields"])) == sorted(expected)
    assert NOTE in [text for _attributes, text in form["texts"]]
    fresh = dict(form["fields"])["csrf_token"]
    assert fresh  # a token of the current session replaces the old one
    proxy.restore()
    assert client.post("/samverkan", data=MultiDict(form["fields"])).status_code == 302
    _db.session.remove()
    assert _db.session.scalar(select(func.count()).select_from(Inquiry)) == 1


@postgres_only
@pytest.mark.parametrize(
    ("lost", "saved"),
    [(BOTH, False), (TO_CLIENT, True)],
    ids=["commit-never-arrived", "answer-to-commit-lost"],
)
def test_a_line_cut_at_commit_says_the_outcome_is_unknown(cut, caplog, lost, saved):
    proxy, build = cut
    app = build()
    client, reference, token = logged_in(app)
    with app.app_context():
        event.listen(_db.engine, "commit", lambda _conn: proxy.blackhole(lost), once=True)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = answer_within(
            GENEROUS,
            lambda: client.post(
                f"/inquiries/{reference}/notes", data={"body": NOTE, "csrf_token": token}
            ),
        )
    assert response.status_code == 503
    assert "<h1>Vi vet inte om det sparades</h1>" in response.text
    assert "Ladda om sidan" in response.text
    assert "har inte sparats" not in response.text
    assert "Inget av det du skickade" not in response.text
    assert_one_log_line(caplog, "COMMIT outcome unknown")
    # Either can be true, which is why the page cannot say which:
    assert notes_saying(NOTE) == (1 if saved else 0)


@postgres_only
def test_the_public_form_cut_at_commit_points_to_the_receipt(cut):
    proxy, build = cut
    app = build()
    client = app.test_client()
    token = csrf_token(client.get("/samverkan").text)
    with app.app_context():
        event.listen(_db.engine, "commit", lambda _conn: proxy.blackhole(TO_CLIENT), once=True)
    response = answer_within(
        GENEROUS,
        lambda: client.post("/samverkan", data=MultiDict(form_data(app, csrf_token=token))),
    )
    assert response.status_code == 503
    assert "<h1>Vi vet inte om det sparades</h1>" in response.text
    assert "kvitto med e-post" in response.text
    assert "statussidan" in response.text
    assert "har inte sparats" not in response.text


@postgres_only
def test_a_statement_over_the_time_limit_gets_503(cut, caplog):
    _proxy, build = cut
    app = build()
    client, reference, _token = logged_in(app)
    blocker = _db.engine.connect()  # the suite's own engine, not through the proxy
    try:
        blocker.exec_driver_sql("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = answer_within(GENEROUS, lambda: client.get(f"/inquiries/{reference}"))
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503
    assert_one_log_line(caplog, "statement timeout")


# The same promises on SQLite, and on both


@sqlite_only
def test_a_held_write_lock_gets_503_with_the_text_not_500(cut, caplog):
    _proxy, build = cut
    client, reference, token = logged_in(build())
    action = f"/inquiries/{reference}/notes"
    locker = sqlite3.connect(make_url(_db.engine.url).database, isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = client.post(action, data={"body": NOTE, "csrf_token": token})
    finally:
        locker.rollback()
        locker.close()
    assert response.status_code == 503
    assert_one_log_line(caplog, "database is locked")
    form = form_posting_to(response.text, action)
    assert without_csrf(form["fields"]) == [("body", NOTE)]
    assert client.post(action, data=MultiDict(form["fields"])).status_code == 302
    assert notes_saying(NOTE) == 1


def test_no_free_pooled_connection_gets_503(cut, caplog):
    _proxy, build = cut
    app = build(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    client, reference, _token = logged_in(app)
    with app.app_context():
        held = _db.engine.connect()  # the pool's only connection
    try:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = answer_within(GENEROUS, lambda: client.get(f"/inquiries/{reference}"))
    finally:
        held.close()
    assert response.status_code == 503
    assert_one_log_line(caplog, "no free database connection")
    assert client.get(f"/inquiries/{reference}").status_code == 200


def test_a_post_that_failed_its_csrf_check_is_never_echoed(cut):
    """Only a request that proved it came from our own page gets its text shown back."""
    _proxy, build = cut
    app = build(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    client, reference, _token = logged_in(app)
    with app.app_context():
        held = _db.engine.connect()
    try:
        forged = client.post(
            f"/inquiries/{reference}/notes", data={"body": NOTE, "csrf_token": "forged"}
        )
    finally:
        held.close()
    assert forged.status_code in {400, 503}  # refused either way, and never a crash
    assert "Ringde Anna" not in forged.text


def test_without_a_csrf_check_the_503_page_shows_no_text(cut):
    _proxy, build = cut
    app = build(
        WTF_CSRF_ENABLED=False, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0}
    )
    client, reference, _token = logged_in(app)
    with app.app_context():
        held = _db.engine.connect()
    try:
        response = client.post(f"/inquiries/{reference}/notes", data={"body": NOTE})
    finally:
        held.close()
    assert response.status_code == 503
    assert "Ringde Anna" not in response.text
    assert "<h1>Tjänsten är tillfälligt otillgänglig</h1>" in response.text


def test_a_menu_that_cannot_reach_the_database_gets_the_503_page(cut, monkeypatch, caplog):
    """The menu's counts swallow their own errors, but not an outage: that is the page's 503."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    _proxy, build = cut
    client, reference, _token = logged_in(build())

    def no_connection(*args, **kwargs):
        raise PoolTimeout("QueuePool limit of size 1 overflow 0 reached")

    monkeypatch.setattr("crm.inquiries.queries.menu_counts", no_connection)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.get(f"/inquiries/{reference}")
    assert response.status_code == 503
    assert_one_log_line(caplog, "no free database connection")


# The settings reach the connections


@postgres_settings
def test_postgres_connections_carry_the_configured_limits(database, monkeypatch):
    settings = {
        "DATABASE_CONNECT_TIMEOUT": "3",
        "DATABASE_STATEMENT_TIMEOUT": "7",
        "DATABASE_NETWORK_TIMEOUT": "4",
        "DATABASE_KEEPALIVES_IDLE": "20",
        "DATABASE_KEEPALIVES_INTERVAL": "6",
        "DATABASE_KEEPALIVES_COUNT": "2",
        "DATABASE_POOL_TIMEOUT": "9",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    app = make_app(database)
    with app.app_context(), _db.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "7s"
        # reports group by extract(month …): UTC, whatever the server's default zone
        assert connection.exec_driver_sql("SHOW timezone").scalar() == "UTC"
        driver = connection.connection.driver_connection
        parameters = driver.info.get_parameters()
        assert parameters["connect_timeout"] == "3"
        assert parameters["tcp_user_timeout"] == "4000"
        assert parameters["keepalives"] == "1"
        assert (
            parameters["keepalives_idle"],
            parameters["keepalives_interval"],
            parameters["keepalives_count"],
        ) == ("20", "6", "2")
        assert driver.answer_timeout == 7 + 4
        assert _db.engine.pool.timeout() == 9
        assert _db.engine.pool._pre_ping
    with app.app_context():
        _db.engine.dispose()


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's settings; PostgreSQL's have their own test")
def test_sqlite_connections_carry_the_configured_limits(database, monkeypatch):
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT", "3")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "9")
    app = make_app(database)
    with app.app_context(), _db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3000
        assert _db.engine.pool.timeout() == 9
        assert not _db.engine.pool._pre_ping  # a file cannot vanish: no ping per request
    with app.app_context():
        _db.engine.dispose()


@postgres_settings
def test_migrations_run_without_the_statement_limit(database):
    from crm.database import without_statement_timeout

    app = make_app(database)
    with app.app_context():
        connection = _db.engine.connect()
        with without_statement_timeout(connection):
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
            assert connection.connection.driver_connection.answer_timeout is None
        assert connection.invalidated  # never handed to a web request with no limit
        connection.close()
        _db.engine.dispose()


# The generic 500 page says what it knows about the commit


def test_the_500_page_never_says_nothing_was_saved_after_a_commit(database, committed):
    from sqlalchemy import text

    app = make_app(database, TESTING=False)

    @app.post("/commit-then-fail-for-test")
    def commit_then_fail():
        _db.session.execute(text("SELECT 1"))
        _db.session.commit()
        raise RuntimeError("after the commit")

    @app.post("/fail-before-commit-for-test")
    def fail_before_commit():
        _db.session.execute(text("SELECT 1"))
        raise RuntimeError("before any commit")

    client = app.test_client()
    after = client.post("/commit-then-fail-for-test")
    before = client.post("/fail-before-commit-for-test")
    assert after.status_code == before.status_code == 500
    assert "Det du skickade har sparats" in after.text
    assert "Inget av det du skickade har sparats" not in after.text
    assert "Inget av det du skickade har sparats" in before.text
    with app.app_context():
        _db.engine.dispose()
