"""Migrations build the whole schema, match the models exactly, and can be undone."""

import os

import pytest
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect, text

from crm.extensions import db as _db
from tests.conftest import drop_scratch_database, make_app, scratch_database


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database of the same kind as the suite's."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/migrations.sqlite3"
        return
    url = scratch_database(base, "migrations")
    yield url
    drop_scratch_database(url)


def table_names():
    """Tables in the database, less Alembic's own and the search index tables (migration 0002)."""
    names = set(inspect(_db.engine).get_table_names()) - {"alembic_version"}
    return {name for name in names if not name.startswith("inquiry_search")}


def test_upgrade_check_and_downgrade(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        assert table_names() == set(_db.metadata.tables)
        check()  # raises if the models and the migrations have drifted apart
        downgrade(revision="base")
        assert table_names() == set()
        _db.engine.dispose()


def test_check_detects_drift(empty_database_url):
    """The check above can fail: a schema that differs from the models is caught."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with _db.engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_contacts_email"))
        with pytest.raises(SystemExit):  # Flask-Migrate reports the drift and exits 1
            check()
        _db.engine.dispose()


def test_0005_gives_queued_mail_a_message_id_and_a_give_up_window(empty_database_url):
    """Mail queued before 0005 keeps its status, gets a unique Message-ID at the sender's
    domain, and its give-up window starts when it was queued; downgrading never sends blindly."""
    app = make_app(empty_database_url)
    queued_at = "2026-11-30 10:00:00+00:00"
    with app.app_context():
        upgrade(revision="0004")
        with _db.engine.begin() as connection:
            for status in ("pending", "sent", "failed"):
                connection.execute(
                    text(
                        "INSERT INTO outbox_messages (kind, recipient, subject, body_text, status,"
                        " attempts, next_attempt_at, created_at) VALUES ('receipt', 'a@exempel.se',"
                        " 's', 'b', :status, 0, :at, :at)"
                    ),
                    {"status": status, "at": queued_at},
                )
        upgrade()
        with _db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status, message_id, pending_since FROM outbox_messages ORDER BY id")
            ).all()
        assert [row.status for row in rows] == ["pending", "sent", "failed"]
        ids = [row.message_id for row in rows]
        assert len(set(ids)) == 3
        assert all(i.startswith("<sam.") and i.endswith("@lansmuseerna.se>") for i in ids)
        assert all(str(row.pending_since).startswith("2026-11-30 10:00:00") for row in rows)

        with _db.engine.begin() as connection:
            connection.execute(text("UPDATE outbox_messages SET status = 'held' WHERE id = 1"))
            connection.execute(text("UPDATE outbox_messages SET status = 'sending' WHERE id = 3"))
        downgrade(revision="0004")
        with _db.engine.connect() as connection:
            statuses = connection.scalars(
                text("SELECT status FROM outbox_messages ORDER BY id")
            ).all()
        assert statuses == ["failed", "sent", "pending"]
        _db.engine.dispose()
