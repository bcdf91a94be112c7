"""Backup and restore: a restored database sends nothing twice and reissues no reference.

The round trip through pg_dump and pg_restore is PostgreSQL's (production); `after-restore`
itself runs on both databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from crm.audit.models import AuditLog
from crm.extensions import db as _db
from crm.inquiries.models import Inquiry, ReferenceCounter
from crm.mail.lock import sender_lock
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.mail.services import claim_next, send_pending
from crm.restore import recovery_point
from crm.timeutil import utcnow
from tests.conftest import drop_scratch_database, make_app, scratch_database
from tests.factories import InquiryFactory, UserFactory
from tests.public.helpers import form_data

ROOT = Path(__file__).resolve().parents[1]
BASE_URL = os.environ.get("DATABASE_URL") or ""
ON_POSTGRESQL = BASE_URL.startswith("postgresql")


def mail(db, **values) -> OutboxMessage:
    row = OutboxMessage(kind="receipt", recipient="a@exempel.se", subject="s", body_text="b",
                        **values)  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


def test_after_restore_holds_unsent_mail_moves_counters_and_prints_the_recovery_point(
    app, client, runner, db, smtp_server
):
    UserFactory(role="secretary_general")
    year = utcnow().year
    for number in (1, 2, 7):  # the counter says 2: the dump caught it behind the inquiries
        InquiryFactory(reference=f"SAM-2098-{number:04d}")
    db.session.add_all([
        ReferenceCounter(year=2098, last_number=2), ReferenceCounter(year=2097, last_number=40),
    ])  # fmt: skip
    latest = utcnow() + timedelta(minutes=5)
    rows = {
        "pending": mail(db),
        "sending": mail(db, status=OutboxStatus.SENDING, claimed_by="dead",
                        claimed_until=utcnow() - timedelta(minutes=1)),
        "sent": mail(db, status=OutboxStatus.SENT, sent_at=latest),
        "failed": mail(db, status=OutboxStatus.FAILED),
    }  # fmt: skip

    result = runner.invoke(args=["crm", "after-restore", "--reserve", "50"])

    assert result.exit_code == 0, result.output
    assert f"Recovery point (newest change in the backup, UTC): {latest:%Y-%m-%dT%H:%M:%S}" in (
        result.output
    )
    assert "Held 2 unsent messages" in result.output
    assert "References 2097: next is SAM-2097-0091 (counter 40 → 90)." in result.output
    assert "References 2098: next is SAM-2098-0058 (counter 2 → 57)." in result.output
    assert f"References {year}: next is SAM-{year}-0051 (counter 0 → 50)." in result.output
    db.session.expire_all()
    status = {name: db.session.get(OutboxMessage, row.id).status for name, row in rows.items()}
    assert status == {"pending": OutboxStatus.HELD, "sending": OutboxStatus.HELD,
                      "sent": OutboxStatus.SENT, "failed": OutboxStatus.FAILED}  # fmt: skip
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "after_restore"))
    assert entry.details["held"] == 2
    assert entry.details["reserve"] == 50

    assert send_pending(now=utcnow() + timedelta(days=3)).sent == 0
    assert smtp_server.messages == []
    client.post("/samverkan", data=form_data(app))
    newest = db.session.scalar(select(Inquiry.reference).order_by(Inquiry.id.desc()).limit(1))
    assert newest == f"SAM-{year}-0051"


def test_recovery_point_is_the_newest_write_in_any_table(db):
    assert recovery_point() is None
    InquiryFactory()
    newest = utcnow() + timedelta(hours=2)
    db.session.add(AuditLog(action="x", details={}, created_at=newest))
    mail(db, next_attempt_at=utcnow() + timedelta(days=9))  # a time to come is no write
    db.session.commit()
    assert recovery_point() == newest


def test_after_restore_refuses_while_a_sender_runs(runner, db):
    row = mail(db)
    with sender_lock(1):
        result = runner.invoke(args=["crm", "after-restore", "--reserve", "10"])
    assert result.exit_code == 1
    assert "Stop every sender (cron and workers) before after-restore." in result.output
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == OutboxStatus.PENDING


def test_after_restore_needs_a_reserve(runner, db):
    result = runner.invoke(args=["crm", "after-restore"])
    assert result.exit_code == 2
    assert "--reserve" in result.output


# ---- the real thing: pg_dump, pg_restore, after-restore, send-mail ---------------------


def libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False,
        timeout=300,
    )  # fmt: skip


def flask(url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run(
        sys.executable, "-m", "flask", "crm", *args,
        FLASK_APP="wsgi", SAMVERKA_ENV="test", DATABASE_URL=url, **env,
    )  # fmt: skip


def table_counts(url: str) -> dict[str, int]:
    """Rows in every table of the database (Alembic's and the search index's included)."""
    from sqlalchemy import inspect

    engine = create_engine(url)
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        counts = {
            name: connection.scalar(text(f'SELECT count(*) FROM "{name}"'))
            for name in sorted(names)
        }
    engine.dispose()
    return counts


def fingerprint(url: str) -> str:
    """A checksum of every inquiry row, every column, in id order."""
    import hashlib

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM inquiries ORDER BY id")).all()
    engine.dispose()
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def sequences(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        values = connection.execute(
            text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
        ).all()
    engine.dispose()
    return values


def fill(url: str, smtp_port: int) -> dict:
    """A database with sent, pending and claimed mail, partners, demo and form inquiries."""
    from flask_migrate import upgrade

    from crm.auth.services import create_user
    from crm.demo import DemoData
    from crm.partners.services import seed_partners

    app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)
    with app.app_context():
        upgrade()
        create_user("greta@lansmuseerna.se", "Greta", "secretary_general", "ett-långt-lösenord-1")
        seed_partners()
        demo = DemoData(seed=3)
        demo.inquiries(30, demo.organisations(5))
        _db.session.commit()
        client = app.test_client()
        for n in range(3):
            client.post("/samverkan", data=form_data(app, email=f"sent{n}@exempel.se"))
        sent = send_pending()
        for n in range(2):
            client.post("/samverkan", data=form_data(app, email=f"queued{n}@exempel.se"))
        claim_next(utcnow(), "a sender that was running when the dump was taken")
        unsent = _db.session.scalar(
            select(text("count(*)"))
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
        )
        point = recovery_point()
        references = _db.session.scalars(select(Inquiry.reference)).all()
        _db.session.remove()
        _db.engine.dispose()
    return {"sent": sent.sent, "unsent": unsent, "point": point, "references": references}


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="pg_dump/pg_restore are PostgreSQL's; SQLite has its own copy"
)
def test_pg_dump_and_pg_restore_round_trip_then_after_restore_sends_nothing_twice(
    tmp_path, smtp_port, smtp_server
):
    source = scratch_database(BASE_URL, "backup_source")
    target = scratch_database(BASE_URL, "backup_target")
    try:
        before = fill(source, smtp_port)
        assert (before["sent"], before["unsent"]) == (6, 4)
        delivered = len(smtp_server.messages)
        dump = tmp_path / "samverka.dump"

        # The commands as docs/deploy.md gives them.
        dumped = run("pg_dump", "--format=custom", f"--file={dump}", libpq(source))
        assert dumped.returncode == 0, dumped.stderr
        restored = run(
            "pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error",
            f"--dbname={libpq(target)}", str(dump),
        )  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        assert restored.stderr == ""

        counts = table_counts(source)
        assert counts["inquiries"] == 35
        assert counts["outbox_messages"] == 10
        assert table_counts(target) == counts
        assert fingerprint(target) == fingerprint(source)
        assert sequences(target) == sequences(source)  # new rows get new ids

        after_restore_sends_nothing_twice(target, before, smtp_port, smtp_server, delivered)
    finally:
        drop_scratch_database(source)
        drop_scratch_database(target)


def after_restore_sends_nothing_twice(url, before, smtp_port, smtp_server, delivered) -> None:
    """after-restore and send-mail, as real processes, on a restored database; then a new
    submission gets a reference past every issued one plus the reserve."""
    mail_env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port)}
    after = flask(url, "after-restore", "--reserve", "25", **mail_env)
    assert after.returncode == 0, after.stderr
    point = before["point"].isoformat(timespec="seconds")
    assert f"Recovery point (newest change in the backup, UTC): {point}" in after.stdout
    assert "Held 4 unsent messages" in after.stdout

    sending = flask(url, "send-mail", **mail_env)
    assert sending.returncode == 0, sending.stderr
    assert "Sent 0, will retry 0, gave up on 0." in sending.stdout
    assert len(smtp_server.messages) == delivered  # nothing sent before the dump, nothing held

    app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)
    with app.app_context():
        app.test_client().post("/samverkan", data=form_data(app, email="ny@exempel.se"))
        newest = _db.session.scalar(select(Inquiry.reference).order_by(Inquiry.id.desc()).limit(1))
        _db.session.remove()
        _db.engine.dispose()
    year = utcnow().year
    issued = max(int(r[9:]) for r in before["references"] if r.startswith(f"SAM-{year}-"))
    assert newest == f"SAM-{year}-{issued + 25 + 1:04d}"


@pytest.mark.skipif(ON_POSTGRESQL, reason="the SQLite copy; PostgreSQL's round trip is above")
def test_sqlite_backup_and_copy_back_then_after_restore_sends_nothing_twice(
    tmp_path, smtp_port, smtp_server
):
    import shutil

    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 command-line shell is not installed")
    source = f"sqlite:///{tmp_path / 'samverka.sqlite3'}"
    before = fill(source, smtp_port)
    delivered = len(smtp_server.messages)
    backup = tmp_path / "samverka-backup.sqlite3"

    # The commands as docs/deploy.md gives them: the online backup, then a copy back.
    copied = run("sqlite3", str(tmp_path / "samverka.sqlite3"), f".backup '{backup}'")
    assert copied.returncode == 0, copied.stderr
    restored = tmp_path / "restored.sqlite3"
    shutil.copyfile(backup, restored)
    target = f"sqlite:///{restored}"

    assert table_counts(target) == table_counts(source)
    assert table_counts(target)["outbox_messages"] == 10
    assert fingerprint(target) == fingerprint(source)
    after_restore_sends_nothing_twice(target, before, smtp_port, smtp_server, delivered)
