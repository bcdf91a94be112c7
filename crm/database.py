"""Database engine set-up that differs between SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from config import ConfigError
from crm.core.sql import fold

log = logging.getLogger(__name__)

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set by write_transaction(): the next BEGIN on this thread (or task) is a writer's.
_writing: ContextVar[bool] = ContextVar("samverka_writing", default=False)


def check_url(url: str) -> None:
    """Refuse a malformed or unsupported DATABASE_URL with a message a person can act on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL {url!r} is not a database URL. Examples: "
            "sqlite:///instance/samverka.sqlite3 or "
            "postgresql+psycopg://user@127.0.0.1:5432/samverka"
        ) from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}; Samverka supports SQLite and "
            "PostgreSQL (postgresql+psycopg://…)."
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ConfigError("Use the psycopg 3 driver: DATABASE_URL=postgresql+psycopg://…")


def is_sqlite(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def engine_options(config) -> dict:
    """Engine options with a bound on every wait: connecting, queries, a free pooled connection.

    Bound parameters stay out of error messages (hide_parameters): they hold what people typed,
    search terms and e-mail addresses, and a database error ends up in the log.
    """
    url = config["SQLALCHEMY_DATABASE_URI"]
    # A pooled PostgreSQL connection may have died with the server or the network: ping before
    # use. A SQLite file cannot go away under an open connection, and the ping would be one
    # more statement on every request.
    options: dict = {"pool_pre_ping": not url.startswith("sqlite"), "hide_parameters": True}
    if not (url.startswith("sqlite") and ":memory:" in url):  # one shared connection, no queue
        options["pool_timeout"] = config["DATABASE_POOL_TIMEOUT"]
    if not url.startswith("sqlite"):
        options["connect_args"] = _postgres_connect_args(config, make_url(url).query)
    return {**options, **config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}


def _postgres_connect_args(config, query) -> dict:
    args = {
        # libpq's whole connection set-up (TCP, start-up, authentication); it counts at least 2 s.
        "connect_timeout": max(2, math.ceil(config["DATABASE_CONNECT_TIMEOUT"])),
        # An idle connection whose peer vanished is noticed and dropped by the kernel...
        "keepalives": 1,
        "keepalives_idle": config["DATABASE_KEEPALIVES_IDLE"],
        "keepalives_interval": config["DATABASE_KEEPALIVES_INTERVAL"],
        "keepalives_count": config["DATABASE_KEEPALIVES_COUNT"],
        # ...and so is one whose sent data (a query, a COMMIT) stays unacknowledged this long.
        "tcp_user_timeout": int(config["DATABASE_NETWORK_TIMEOUT"] * 1000),
    }
    # Times are stored in UTC and reports group them with extract(): the session's time zone
    # must be UTC whatever the server's default is, or a month's bar and its list disagree.
    options = [query.get("options", ""), "-c timezone=UTC"]
    statement_ms = int(config["DATABASE_STATEMENT_TIMEOUT"] * 1000)
    if statement_ms > 0:
        options.append(f"-c statement_timeout={statement_ms}")
    args["options"] = " ".join(option for option in options if option)
    return args


def answer_timeout(config) -> float | None:
    """How long a connection waits for any answer: the server's limit plus the network's."""
    statement = config["DATABASE_STATEMENT_TIMEOUT"]
    if statement <= 0:
        return None  # long statements are allowed, so silence proves nothing
    return statement + config["DATABASE_NETWORK_TIMEOUT"]


def init_engine_events(app: Flask) -> None:
    from crm.extensions import db

    with app.app_context():
        engine = db.engine
    _track_commits(engine)
    if is_sqlite(app):
        _sqlite_events(app, engine)
    else:
        _postgres_events(app, engine)


def _postgres_events(app: Flask, engine) -> None:
    timeout = answer_timeout(app.config)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        from crm.pgconnection import AnsweringConnection

        connection = AnsweringConnection.connect(*cargs, **cparams)
        connection.answer_timeout = timeout
        return connection


@contextmanager
def without_statement_timeout(connection):
    """No statement limit on this connection: for operator-run work such as migrations, which
    may legitimately run longer than any web request should."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.exec_driver_sql("SET statement_timeout = 0")
    connection.commit()
    connection.connection.driver_connection.answer_timeout = None
    try:
        yield
    finally:
        connection.invalidate()  # its settings are no longer the pool's; never reuse it


def _sqlite_events(app: Flask, engine) -> None:
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT"] * 1000)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        # Deleted and overwritten content is zeroed, not left in free pages: erased personal
        # data must not stay readable in the database file (GDPR art. 17).
        cursor.execute("PRAGMA secure_delete=ON")
        # Search compares words with every letter folded; SQLite's lower() folds A–Z only.
        dbapi_connection.create_function("fold", 1, fold, deterministic=True)
        if not app.config["SQLALCHEMY_DATABASE_URI"].endswith(":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):
        # A request that may write takes the write lock at once: concurrent writers then wait
        # their turn (busy_timeout) instead of failing when a read snapshot turns stale.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _takes_write_lock() else "BEGIN")


def _takes_write_lock() -> bool:
    """A transaction that will write must say so at BEGIN on SQLite (see write_transaction)."""
    if _writing.get():
        return True
    return has_request_context() and request.method not in SAFE_METHODS


@contextmanager
def write_transaction() -> Iterator:
    """One short transaction that writes, committed at the end and rolled back on error.

    For code outside a request (commands, the mail sender). On SQLite in WAL mode a plain
    (deferred) BEGIN that reads first and writes later fails at once with "database is locked"
    when another connection committed in between, and busy_timeout cannot help; so this starts
    with BEGIN IMMEDIATE, which waits up to busy_timeout for the write lock and then holds it.
    On PostgreSQL it is an ordinary transaction. Any transaction the session had open is
    committed first, so the write starts from a fresh snapshot; afterwards every object in the
    session is expired (as a commit does by default), so none shows a state from before it.
    """
    from crm.extensions import db

    session = db.session()  # the current session itself (scoped_session hides some methods)
    if session.in_transaction():
        session.commit()
    token = _writing.set(True)
    try:
        with session.begin():
            yield session
    finally:
        _writing.reset(token)
    session.expire_all()


# When the connection is lost while COMMIT is on its way, the change may or may not have been
# made. So the request remembers where its commit is, and an error page never claims that
# nothing was saved when it cannot know.
COMMIT_SENT = "sent"
COMMIT_CONFIRMED = "confirmed"


def _track_commits(engine) -> None:
    event.listen(engine, "commit", _commit_sent)
    if not event.contains(Session, "after_commit", _commit_confirmed):
        event.listen(Session, "after_commit", _commit_confirmed)


def _commit_sent(_connection) -> None:
    if has_request_context():
        g.commit_state = COMMIT_SENT


def _commit_confirmed(_session) -> None:
    if has_request_context() and g.get("commit_state") == COMMIT_SENT:
        g.commit_state = COMMIT_CONFIRMED


def commit_state() -> str | None:
    """None (no commit yet in this request), COMMIT_SENT (unconfirmed) or COMMIT_CONFIRMED."""
    return g.get("commit_state") if has_request_context() else None


@dataclass(frozen=True)
class Unavailable:
    """The database could not be used: why (for the log), and whether a COMMIT was lost."""

    reason: str
    outcome_unknown: bool


def unavailable(exc: BaseException) -> Unavailable | None:
    """How the database failed to answer, or None when it answered (e.g. refused a change)."""
    if isinstance(exc, PoolTimeout):
        return Unavailable("no free database connection: " + _first_line(exc), False)
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    if _sqlite_busy(orig):
        return Unavailable("database is locked: busy timeout expired", False)
    lost = exc.connection_invalidated or _connection_failure(orig)
    if lost:
        return Unavailable(_first_line(orig), commit_state() == COMMIT_SENT)
    if _server_gave_up(orig):
        return Unavailable(_first_line(orig), False)
    return None


def _sqlite_busy(orig) -> bool:
    # SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included
    return isinstance(orig, sqlite3.OperationalError) and (
        getattr(orig, "sqlite_errorcode", 0) & 0xFF in {5, 6}
    )


def _psycopg_state(orig) -> tuple[bool, str | None]:
    if type(orig).__module__.split(".")[0] != "psycopg":
        return False, None
    return True, getattr(orig, "sqlstate", None)


def _connection_failure(orig) -> bool:
    """The client lost the server: refused, timed out, closed, or no answer (no SQLSTATE)."""
    is_psycopg, state = _psycopg_state(orig)
    if not is_psycopg:
        return False
    import psycopg

    if state is None:
        return isinstance(orig, psycopg.OperationalError)
    return state.startswith(("08", "57P"))  # connection exception; shut down or starting


def _server_gave_up(orig) -> bool:
    """The server is there but cannot serve: statement timeout, too many connections."""
    is_psycopg, state = _psycopg_state(orig)
    return is_psycopg and state in {"57014", "53300"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# SQLite's full-text search tables (migrations 0002, 0021, 0023).
SEARCH_TABLES = ("inquiry_search", "message_search", "organisation_search", "contact_search")


def checkpoint() -> None:
    """SQLite, after an erasure: first let the search tables forget the erased text, then
    copy the write-ahead log into the database file and empty it.

    FTS5 does not remove a changed row's words from its index; it records that they were
    deleted and keeps them until segments are merged, and from a row's trigrams and their
    positions the text can be read again. "optimize" merges every segment now, and with
    secure_delete the freed pages are zeroed. The log would otherwise keep the erased rows
    until SQLite checkpoints on its own. The checkpoint never waits: while another connection
    is reading, it does what it can and says so in the log (SQLite checkpoints again itself).
    Nothing to do on PostgreSQL, whose indexes hold no deleted entries once vacuumed."""
    from flask import current_app

    from crm.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    _merge_search_tables(db.session)
    # The raw connection: no BEGIN (a checkpoint runs outside transactions), no write lock.
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        busy, _frames, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning("WAL checkpoint not completed now: another connection is reading")
    except sqlite3.Error as exc:
        log.warning("WAL checkpoint not completed now: %s", exc)
    finally:
        busy_ms = int(current_app.config["SQLITE_BUSY_TIMEOUT"] * 1000)
        connection.cursor().execute(f"PRAGMA busy_timeout={busy_ms}")
        connection.close()


def _merge_search_tables(session) -> None:
    """In the session's own transaction (committed), so it waits for no other connection of
    this process: the erasure that came before has just committed on it."""
    from sqlalchemy import text

    for table in SEARCH_TABLES:
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))  # noqa: S608
    session.commit()
