"""Senders next to a busy web app, next to each other, and dying at the worst moment.

These tests commit for real (`committed`), and some run `flask crm send-mail` as a real
process, because what they check is between connections and between processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, select

from crm.audit.models import AuditLog
from crm.extensions import db as _db
from crm.mail.lock import sender_lock
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.mail.services import LEASE, claim_next, send_pending
from crm.timeutil import utcnow
from tests.factories import UserFactory
from tests.public.helpers import form_data
from tests.smtp import Inbox

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRESQL = "postgresql" in (os.environ.get("DATABASE_URL") or "")


def queue(session, count: int, prefix: str = "r") -> list[str]:
    """Commit `count` messages; their Message-IDs."""
    messages = [
        OutboxMessage(
            kind="test", recipient=f"{prefix}{n}@exempel.se", subject=str(n), body_text="x"
        )
        for n in range(count)
    ]
    session.add_all(messages)
    session.commit()
    return [m.message_id for m in messages]


def rows(session) -> list[OutboxMessage]:
    """The outbox as other connections left it: end this session's read snapshot first."""
    session.commit()
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def statuses(session) -> list[OutboxStatus]:
    return [row.status for row in rows(session)]


@pytest.fixture
def smtp(smtp_port):
    """Start an SMTP server with a given handler on the app's mail port; stopped afterwards."""
    controllers = []

    def start(handler):
        controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        controllers.append(controller)
        return handler

    yield start
    for controller in controllers:
        controller.stop()


# ---- the web app writes while a sender sends (SQLite's "database is locked") -------------


class WritesWhileReceiving(Inbox):
    """Before it accepts each message, the 'web app' commits a write on its own connection:
    exactly the moment between the SMTP hand-over and the sender's record of it."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    async def handle_DATA(self, server, session, envelope):
        with self.app.app_context(), _db.engine.begin() as connection:
            connection.execute(insert(AuditLog).values(action="web_write", details={}))
        return await super().handle_DATA(server, session, envelope)


def test_a_write_between_hand_over_and_record_neither_crashes_nor_resends(app, committed, smtp):
    """Before the fix the sender read in a deferred transaction, handed the mail over, and
    then failed to write ("database is locked", SQLITE_BUSY_SNAPSHOT): the mail had gone out,
    was still pending, and went out again on every run."""
    inbox = smtp(WritesWhileReceiving(app))
    ids = queue(committed.session, 3)

    report = send_pending()
    again = send_pending(now=utcnow() + timedelta(days=3))

    assert (report.sent, report.retrying, report.failed) == (3, 0, 0)
    assert again.sent == 0
    assert sorted(inbox.message_ids()) == sorted(ids)
    assert statuses(committed.session) == [OutboxStatus.SENT] * 3
    writes = select(func.count()).select_from(AuditLog).where(AuditLog.action == "web_write")
    assert committed.session.scalar(writes) == 3


SUBMISSIONS = 15


def test_sending_while_people_submit_the_form_delivers_each_message_once(app, committed, smtp):
    inbox = smtp(Inbox())
    UserFactory(role="secretary_general")
    queue(committed.session, 20)
    committed.session.remove()
    start = threading.Barrier(2)
    forms = [form_data(app, email=f"p{n}@exempel.se") for n in range(SUBMISSIONS)]

    def web_app():
        client = app.test_client()
        start.wait(timeout=30)
        return [client.post("/samverkan", data=data).status_code for data in forms]

    def sender(writer):
        start.wait(timeout=30)
        with app.app_context():
            sent = 0
            while True:
                finished = writer.done()
                sent += send_pending().sent
                if finished:
                    return sent

    with ThreadPoolExecutor(max_workers=2) as pool:
        writer = pool.submit(web_app)
        sent = pool.submit(sender, writer).result(timeout=300)
        assert writer.result(timeout=300) == [302] * SUBMISSIONS

    total = 20 + 2 * SUBMISSIONS  # each submission queues a receipt and a notice
    assert sent == total
    with app.app_context():
        outbox = rows(committed.session)
        assert len(outbox) == total
        assert {row.status for row in outbox} == {OutboxStatus.SENT}
        assert sorted(inbox.message_ids()) == sorted(row.message_id for row in outbox)


# ---- several senders --------------------------------------------------------------------


def test_parallel_senders_send_each_message_once(app, committed, smtp):
    """Claims are exclusive on both databases: FOR UPDATE SKIP LOCKED on PostgreSQL, the
    write lock taken at BEGIN on SQLite (the command still runs one sender there)."""
    inbox = smtp(Inbox())
    ids = queue(committed.session, 30)
    committed.session.remove()

    def sender(_):
        with app.app_context():
            return send_pending().sent

    with ThreadPoolExecutor(max_workers=3) as pool:
        sent = list(pool.map(sender, range(3)))

    assert sum(sent) == 30
    assert sorted(inbox.message_ids()) == sorted(ids)
    recipients = [rcpts[0] for _, rcpts, _ in inbox.messages]
    assert sorted(recipients) == sorted(f"r{n}@exempel.se" for n in range(30))


def test_a_dead_senders_claim_is_taken_over_after_its_lease_only(app, committed, smtp):
    inbox = smtp(Inbox())
    [message_id] = queue(committed.session, 1)
    now = utcnow()
    claim = claim_next(now, "a-sender-that-dies")
    assert claim is not None
    assert statuses(committed.session) == [OutboxStatus.SENDING]

    assert send_pending(now=now + LEASE - timedelta(seconds=1)).sent == 0
    assert send_pending(now=now + LEASE).sent == 1
    assert inbox.message_ids() == [message_id]
    [row] = rows(committed.session)
    assert (row.status, row.attempts, row.claimed_until) == (OutboxStatus.SENT, 2, None)


# ---- real processes: a sender killed after SMTP accepted, and overlapping runs ---------------


def flask_command(app, *args: str, **popen) -> subprocess.Popen:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "SAMVERKA_ENV": "test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": app.config["MAIL_SERVER"],
        "MAIL_PORT": str(app.config["MAIL_PORT"]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "crm", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )  # fmt: skip


class KillsTheSender(Inbox):
    """Keeps the message, then kills the sending process before it can record the hand-over."""

    def __init__(self):
        super().__init__()
        self.victim: subprocess.Popen | None = None

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            os.kill(self.victim.pid, signal.SIGKILL)
            self.victim.wait(timeout=30)
            self.victim = None
        return reply


def test_a_sender_killed_after_smtp_accepted_resends_with_the_same_message_id(app, committed, smtp):
    """The documented at-least-once window: the message went out, the sender died before it
    could record that, and after the lease the message goes out again, same Message-ID."""
    inbox = smtp(KillsTheSender())
    [message_id] = queue(committed.session, 1)

    inbox.victim = victim = flask_command(app, "send-mail")
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert inbox.message_ids() == [message_id]
    [row] = rows(committed.session)
    assert (row.status, row.attempts) == (OutboxStatus.SENDING, 1)

    second = flask_command(app, "send-mail")  # within the lease: the message is left alone
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "Sent 0, will retry 0, gave up on 0." in out
    assert inbox.message_ids() == [message_id]

    assert send_pending(now=utcnow() + LEASE).sent == 1
    assert inbox.message_ids() == [message_id, message_id]
    assert statuses(committed.session) == [OutboxStatus.SENT]


class HoldsTheFirstMessage(Inbox):
    """Keeps the first message waiting until the test lets it go."""

    def __init__(self):
        super().__init__()
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if not self.arrived.is_set():
            self.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return await super().handle_DATA(server, session, envelope)


def test_overlapping_send_mail_runs_are_refused(app, committed, smtp):
    inbox = smtp(HoldsTheFirstMessage())
    ids = queue(committed.session, 2)

    first = flask_command(app, "send-mail")
    try:
        assert inbox.arrived.wait(timeout=60), first.stderr.read() if first.poll() else ""
        overlapping = flask_command(app, "send-mail")
        out, err = overlapping.communicate(timeout=60)
    finally:
        inbox.release.set()
    first_out, first_err = first.communicate(timeout=60)

    assert overlapping.returncode == 0, err
    assert "Another send-mail (worker 1) is running. This run sent nothing." in out
    assert first.returncode == 0, first_err
    assert "Sent 2, will retry 0, gave up on 0." in first_out
    assert sorted(inbox.message_ids()) == sorted(ids)


def test_the_lock_is_per_worker_number(app, runner, db, smtp_server):
    db.session.add(OutboxMessage(kind="test", recipient="a@exempel.se", subject="s", body_text="b"))
    db.session.commit()
    with sender_lock(1):
        busy = runner.invoke(args=["crm", "send-mail"])
        other = runner.invoke(args=["crm", "send-mail", "--worker", "2"])
    assert busy.exit_code == 0
    assert "Another send-mail (worker 1) is running" in busy.output
    if ON_POSTGRESQL:
        assert other.exit_code == 0, other.output
        assert "Sent 1," in other.output
    else:
        assert other.exit_code == 1
        assert "SQLite has one writer: run one sender (worker 1) only." in other.output
        assert runner.invoke(args=["crm", "send-mail"]).exit_code == 0  # the lock is free again
    assert len(smtp_server.messages) == 1
