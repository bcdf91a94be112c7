"""One sender per worker number: overlapping `send-mail` runs of the same worker are refused.

Cron starts `send-mail` every minute; when SMTP is slow a run can outlast the minute, and runs
would pile up. Each run therefore takes a lock for its worker number (1 unless `--worker` says
otherwise) that the operating system or the database releases when the process ends, however
it ends, so a crashed sender never blocks the next one:

- SQLite: an exclusive `flock` on a file beside the database file.
- PostgreSQL: a session advisory lock, held on a connection of its own for the whole run.

Several workers with different numbers may run at once on PostgreSQL; their claims (`FOR
UPDATE SKIP LOCKED` plus a lease) keep them off each other's messages. SQLite has one writer,
so more workers would only queue for its lock: it allows worker 1 only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crm.errors import DomainError
from crm.extensions import db

MAX_WORKERS = 16
# The first key of PostgreSQL's two-key advisory locks: "SAMM"(ail) as a number, unlikely to
# collide with another application's locks in the same database.
ADVISORY_LOCK_CLASS = 0x53414D4D


class SenderBusy(DomainError):
    """Another sender with the same worker number is running."""


@contextmanager
def sender_lock(worker: int = 1) -> Iterator[None]:
    """Hold the lock of `worker` for the duration of the block, or raise SenderBusy."""
    if not 1 <= worker <= MAX_WORKERS:
        raise DomainError(f"--worker must be between 1 and {MAX_WORKERS}.")
    with _held([worker]):
        yield


@contextmanager
def all_sender_locks() -> Iterator[None]:
    """Every worker's lock at once: nothing may send meanwhile (used after a restore)."""
    workers = range(1, MAX_WORKERS + 1) if db.engine.dialect.name == "postgresql" else (1,)
    with _held(list(workers)):
        yield


@contextmanager
def _held(workers: list[int]) -> Iterator[None]:
    if db.engine.dialect.name != "postgresql" and workers != [1]:
        raise DomainError("SQLite has one writer: run one sender (worker 1) only.")
    with run_lock(ADVISORY_LOCK_CLASS, workers, "send-mail-1", _sender_busy):
        yield


def _sender_busy(worker: int) -> SenderBusy:
    return SenderBusy(f"Another send-mail (worker {worker}) is running.")


@contextmanager
def run_lock(
    lock_class: int, keys: list[int], file_name: str, busy: Callable[[int], DomainError]
) -> Iterator[None]:
    """Hold a command's lock for the block, or raise `busy(key)` if another process holds it.

    The database or the operating system releases it when the process ends, however it ends:
    on PostgreSQL session advisory locks (`lock_class`, key) on a connection of their own; on
    SQLite an exclusive `flock` on `file_name` beside the database file (one file, since
    SQLite has one writer anyway).
    """
    if db.engine.dialect.name == "postgresql":
        with _advisory_locks(lock_class, keys, busy):
            yield
    else:
        with _file_lock(lock_path(file_name), lambda: busy(keys[0])):
            yield


@contextmanager
def _advisory_locks(lock_class: int, keys: list[int], busy) -> Iterator[None]:
    # One connection of its own, in AUTOCOMMIT: the locks belong to the database session, so
    # no transaction stays open for the run, and they go when the connection does.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        taken = []
        try:
            for key in keys:
                held = {"cls": lock_class, "key": key}
                if not connection.scalar(text("SELECT pg_try_advisory_lock(:cls, :key)"), held):
                    raise busy(key)
                taken.append(held)
            yield
        finally:
            for held in taken:
                connection.execute(text("SELECT pg_advisory_unlock(:cls, :key)"), held)


@contextmanager
def _file_lock(path: str, busy) -> Iterator[None]:
    import fcntl

    handle = open(path, "a+b")  # noqa: SIM115 (closed in finally, after the lock is released)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy() from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def lock_path(name: str) -> str:
    """Beside the database file, so every app that uses that database shares the lock."""
    database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if database and database != ":memory:":
        return f"{os.path.abspath(database)}.{name}.lock"
    os.makedirs(current_app.instance_path, exist_ok=True)
    return os.path.join(current_app.instance_path, f"{name}.lock")
