"""`flask crm fetch-mail`: read the intake mailbox over IMAP into Samverka.

Each message is fetched as its exact bytes, stored and committed through the one inbound
service, and only then moved out of the folder. A run that dies in between finds the message
again next time; the service knows its Message-ID, so it is stored once, then moved.
"""

from __future__ import annotations

import hashlib
import logging
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app
from imap_tools import MailBox, MailBoxUnencrypted

from crm.conversation.inbound import receive
from crm.errors import DomainError
from crm.extensions import db
from crm.mail.lock import run_lock

log = logging.getLogger(__name__)
# The first key of PostgreSQL's two-key advisory locks: "SAMF"(etch) as a number, beside
# send-mail's "SAMM" (crm/mail/lock.py).
ADVISORY_LOCK_CLASS = 0x53414D46


class FetchBusy(DomainError):
    """Another fetch-mail is reading the same mailbox."""


@dataclass
class FetchReport:
    stored: int = 0
    duplicates: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def open_mailbox():
    """A logged-in mailbox on the configured folder (password, or XOAUTH2 with a token from
    MAIL_IMAP_OAUTH_TOKEN_COMMAND for Microsoft 365 and Google)."""
    config = current_app.config
    if not config["MAIL_IMAP_HOST"] or not config["MAIL_IMAP_USERNAME"]:
        raise RuntimeError("Set MAIL_IMAP_HOST and MAIL_IMAP_USERNAME to fetch mail.")
    kind = MailBox if config["MAIL_IMAP_SSL"] else MailBoxUnencrypted
    box = kind(config["MAIL_IMAP_HOST"], config["MAIL_IMAP_PORT"], timeout=30)
    folder = config["MAIL_IMAP_FOLDER"]
    if config["MAIL_IMAP_OAUTH_TOKEN_COMMAND"]:
        return box.xoauth2(config["MAIL_IMAP_USERNAME"], _oauth_token(), initial_folder=folder)
    return box.login(
        config["MAIL_IMAP_USERNAME"], config["MAIL_IMAP_PASSWORD"] or "", initial_folder=folder
    )


def _oauth_token() -> str:
    command = shlex.split(current_app.config["MAIL_IMAP_OAUTH_TOKEN_COMMAND"])
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)  # noqa: S603
    return result.stdout.strip()


def fetch_mail(limit: int = 500) -> FetchReport:
    """Store up to `limit` messages of the folder and move each to MAIL_IMAP_DONE_FOLDER.
    Raises FetchBusy when another run is reading the same mailbox."""
    done_folder = current_app.config["MAIL_IMAP_DONE_FOLDER"]
    report = FetchReport()
    with mailbox_lock(), open_mailbox() as box:
        if not box.folder.exists(done_folder):
            box.folder.create(done_folder)
        for uid in box.uids()[:limit]:
            raw = _raw_message(box, uid)
            if raw is None:
                continue
            received = receive(raw)
            db.session.commit()  # stored for good before the mailbox forgets it
            box.move(uid, done_folder)
            _count(report, received)
    return report


def _raw_message(box, uid: str) -> bytes | None:
    """The message's exact bytes, without marking it read (BODY.PEEK)."""
    status, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        log.warning("IMAP fetch of uid %s failed: %s", uid, data)
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def _count(report: FetchReport, received) -> None:
    if received.duplicate:
        report.duplicates += 1
        return
    report.stored += 1
    report.statuses[received.status.value] = report.statuses.get(received.status.value, 0) + 1


# ---- one run per mailbox ---------------------------------------------------------------


@contextmanager
def mailbox_lock() -> Iterator[None]:
    """Hold the configured mailbox for one run, or raise FetchBusy.

    Runs overlap when cron starts fetch-mail on several app hosts, or starts the next run while
    a slow one still reads. Two runs reading one folder would each store every message (the
    second finds it stored) and each move it: a mail server copies a message that two
    sessions move into the done folder twice. So a run takes the same kind of lock as
    send-mail (`crm.mail.lock.run_lock`), per mailbox (server, user, folder), so two
    mailboxes never wait for each other.
    """
    key = _mailbox_key()
    with run_lock(ADVISORY_LOCK_CLASS, [key], f"fetch-mail-{key & 0xFFFFFFFF:08x}", _busy):
        yield


def _busy(_key: int) -> FetchBusy:
    return FetchBusy("Another fetch-mail is reading this mailbox.")


def _mailbox_key() -> int:
    config = current_app.config
    mailbox = "\0".join(str(config[name]) for name in (
        "MAIL_IMAP_HOST", "MAIL_IMAP_PORT", "MAIL_IMAP_USERNAME", "MAIL_IMAP_FOLDER",
    ))  # fmt: skip
    return int.from_bytes(hashlib.sha256(mailbox.encode()).digest()[:4], "big", signed=True)
