"""The attachments' files on disk, outside the static folder (ATTACHMENTS_DIR).

A file is copied in chunks (memory stays flat whatever its size) under
`<first two hex of its SHA-256>/<SHA-256>-<random>`, so its name says nothing of its owner and
two rows never share a file. The disk follows the database: a file written in a transaction
that rolls back is removed at once, a file whose row is deleted is removed only once that
deletion is committed. A crash between the two leaves an orphan, which `flask crm
clean-attachments` removes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
KEY_PATTERN = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}-[0-9a-f]{16}$")
WRITTEN = "samverka_attachments_written"
TO_REMOVE = "samverka_attachments_to_remove"


@dataclass(frozen=True)
class StoredFile:
    storage_key: str
    sha256: str
    size: int


def root() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


def path_of(storage_key: str) -> Path:
    if not KEY_PATTERN.match(storage_key):
        raise ValueError(f"not a storage key: {storage_key!r}")
    return root() / storage_key


def store(stream: BinaryIO, session: Session) -> StoredFile:
    """Copy the stream to the store; the file goes again if the transaction it was written in
    (or any around it) rolls back, or if none ever commits it (`discard_uncommitted`)."""
    folder = root()
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder / "tmp")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(descriptor, "wb") as out:
            stream.seek(0)
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        key = f"{sha256[:2]}/{sha256}-{secrets.token_hex(8)}"
        (folder / key).parent.mkdir(exist_ok=True)
        os.replace(temporary, folder / key)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    finally:
        stream.seek(0)
    session.info.setdefault(WRITTEN, {})[key] = _current(session)
    return StoredFile(key, sha256, size)


def remove_after_commit(session: Session, storage_keys: Iterable[str]) -> None:
    removals = session.info.setdefault(TO_REMOVE, {})
    for key in storage_keys:
        removals[key] = _current(session)


def _current(session):
    if isinstance(session, scoped_session):
        session = session()  # the registry's session itself; the proxy hides these methods
    return session.get_nested_transaction() or session.get_transaction()


def _within(transaction, ancestor) -> bool:
    """Whether `transaction` is `ancestor` or was begun inside it (None: before any began)."""
    if transaction is None:
        return ancestor.parent is None
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _unlink(storage_keys: Iterable[str]) -> None:
    for key in storage_keys:
        try:
            path_of(key).unlink(missing_ok=True)
        except OSError as exc:  # left for clean-attachments; the database is already right
            log.warning("attachment file %s not removed: %s", key, exc)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its files now stand or fall with the outer transaction
    session.info.pop(WRITTEN, None)
    _unlink(session.info.pop(TO_REMOVE, {}))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    """Files written in the rolled-back transaction go; removals planned in it are undone."""
    for name, undo in ((WRITTEN, _unlink), (TO_REMOVE, lambda keys: None)):
        planned = session.info.get(name, {})
        gone = [key for key, begun in planned.items() if _within(begun, previous_transaction)]
        for key in gone:
            del planned[key]
        undo(gone)


def discard_uncommitted(session: Session) -> None:
    """At the end of a request: files no transaction committed (say, the request failed
    before it began one) are removed."""
    session.info.pop(TO_REMOVE, None)
    _unlink(session.info.pop(WRITTEN, {}))


def stored_keys() -> Iterator[tuple[str, float]]:
    """Every file in the store with its modification time (the temporary folder included)."""
    folder = root()
    if not folder.is_dir():
        return
    for path in folder.glob("*/*"):
        if path.is_file():
            yield path.relative_to(folder).as_posix(), path.stat().st_mtime


def remove_orphans(known: set[str], older_than_seconds: int = 3600) -> list[str]:
    """Files no row names, older than an upload in progress could be; returns their keys."""
    limit = time.time() - older_than_seconds
    orphans = [key for key, modified in stored_keys() if key not in known and modified < limit]
    for key in orphans:
        (root() / key).unlink(missing_ok=True)
    return orphans
