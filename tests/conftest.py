"""Test base: one migrated database per run; each test inside a transaction that is rolled back.

Set DATABASE_URL to run the suite against PostgreSQL; without it a temporary SQLite file is used.
"""

from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestConfig
from crm import create_app
from crm.extensions import db as _db

TEST_PASSWORD = "korrekt-häst-batteri-häfta"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    compile_translations()


def compile_translations() -> None:
    """Compile the English catalogue when it is missing or older than its source, so a plain
    `pytest` from a fresh clone works (`make` does the same before it runs the suite)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    folder = os.path.join(ROOT, "translations", "en", "LC_MESSAGES")
    po, mo = os.path.join(folder, "messages.po"), os.path.join(folder, "messages.mo")
    if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
        return
    with open(po, "rb") as source:
        catalog = read_po(source)
    partial = f"{mo}.{os.getpid()}"  # xdist workers may compile at once: each renames its own
    with open(partial, "wb") as target:
        write_mo(target, catalog, use_fuzzy=True)
    os.replace(partial, mo)


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def scratch_database(base_url: str, suffix: str) -> str:
    """A new, empty PostgreSQL database beside the suite's, named after it so parallel runs
    against different databases never drop each other's scratch databases."""
    base = make_url(base_url)
    name = f"{base.database}_{suffix}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_scratch_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def reset_database(url: str) -> None:
    """Start from an empty database, so the migrations build every table."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    elif parsed.database and os.path.exists(parsed.database):
        os.remove(parsed.database)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (and so its own `g`), as in production."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(url: str, **overrides):
    import tempfile

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    # Each app its own attachments folder: parallel workers never share files.
    config.ATTACHMENTS_DIR = tempfile.mkdtemp(prefix="samverka-attachments-")
    app = create_app(config, **overrides)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def database(tmp_path_factory) -> str:
    """The URL of a freshly migrated database shared by the whole run."""
    from flask_migrate import upgrade

    url = database_url(tmp_path_factory)
    reset_database(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def app(database):
    """The app under test, bound to the migrated test database."""
    return make_app(database)


@pytest.fixture
def db(app):
    """The database session for one test; everything it did is rolled back afterwards."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        session_factory = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        original = _db.session
        _db.session = scoped_session(session_factory, scopefunc=lambda: "test")
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client, db):
    """Log the test client in as a new user with the given role; returns the user."""
    from tests.factories import UserFactory

    def login(role: str, **attrs):
        user = UserFactory(role=role, **attrs)
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.text
        return user

    return login


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside the `with` block: `with count_queries() as n: …; n()`."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO)", statement):
                statements.append(statement)

        engine = _db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield lambda: len(statements)
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def statements_for(client, count_queries):
    """The number of SQL statements a GET of `path` runs; the page must answer 200."""

    def measure(path: str) -> int:
        with count_queries() as counted:
            assert client.get(path).status_code == 200, path
        return counted()

    return measure


def empty_all_tables() -> None:
    """Remove every row (for tests that must really commit, e.g. concurrency tests)."""
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def committed(app):
    """No rollback: the test commits for real and every table is emptied afterwards."""
    with app.app_context():
        empty_all_tables()
        try:
            yield _db
        finally:
            _db.session.remove()
            empty_all_tables()


@pytest.fixture
def limited_app(database, db):
    """Build an app with rate limits on; the shared Limiter is switched back off afterwards.

    Flask-Limiter keeps `enabled` and its storage on the one Limiter object, so without this an
    app with limits would leave them on for every later test.
    """
    from crm.extensions import limiter

    def build(**overrides):
        return make_app(database, RATELIMIT_ENABLED=True, **overrides)

    yield build
    limiter.reset()
    limiter.enabled = False


@pytest.fixture
def smtp_port(app, monkeypatch):
    """A free port the app sends mail to; nothing listens there unless smtp_server starts."""
    from tests.smtp import free_port

    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    return port


@pytest.fixture
def smtp_server(smtp_port):
    """A real SMTP server (aiosmtpd) on smtp_port that keeps every message it accepts."""
    from aiosmtpd.controller import Controller

    from tests.smtp import Inbox

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def imap_server():
    """A real IMAP server (Dovecot) for the session: (host, port); every user name is a fresh
    mailbox, so each test takes its own."""
    import shutil
    import tempfile
    from pathlib import Path

    from tests.imap import start_dovecot, stop_dovecot
    from tests.smtp import free_port

    # Not under pytest's temporary folder: its 0700 parents would keep Dovecot's users out.
    root = Path(tempfile.mkdtemp(prefix="samverka-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    try:
        process = start_dovecot(root, port)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield "127.0.0.1", port
    stop_dovecot(process)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def intake_mailbox(app, imap_server, monkeypatch):
    """The app's intake mailbox on the test IMAP server, empty; returns a logged-in client
    factory for putting mail in and looking at the folders."""
    import uuid

    from imap_tools import MailBoxUnencrypted

    from tests.imap import PASSWORD

    host, port = imap_server
    user = f"intake-{uuid.uuid4().hex[:12]}"
    for name, value in {
        "MAIL_IMAP_HOST": host, "MAIL_IMAP_PORT": port, "MAIL_IMAP_SSL": False,
        "MAIL_IMAP_USERNAME": user, "MAIL_IMAP_PASSWORD": PASSWORD,
        "MAIL_IMAP_OAUTH_TOKEN_COMMAND": None,
    }.items():  # fmt: skip
        monkeypatch.setitem(app.config, name, value)

    def connect():
        return MailBoxUnencrypted(host, port).login(user, PASSWORD)

    return connect


# The machine's Redis: every machine of this kind runs one (and .ci/run starts it when it does
# not answer), as production runs one beside PostgreSQL.
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis's URL; the test fails (it is not skipped) when Redis does not answer."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} does not answer ({exc}); start it (see .ci/run)")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own (REDIS_KEY_PREFIX); every key holding it is deleted
    afterwards, so tests share the one Redis without reading each other's keys."""
    import uuid

    import redis

    prefix = f"samverka-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    # Flask-Limiter's keys hold the prefix after its own ("LIMITS:LIMITER/<prefix>/…").
    stale = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if stale:
        client.delete(*stale)
    client.close()
