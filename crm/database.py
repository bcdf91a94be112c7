"""Database engine set-up that differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config import ConfigError

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# SQLite's busy_timeout: how long a writer waits for another writer's lock before failing.
BUSY_TIMEOUT_MS = 10_000

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


def init_engine_events(app: Flask) -> None:
    if not is_sqlite(app):
        return
    from crm.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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
