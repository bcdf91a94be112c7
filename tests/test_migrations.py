"""Migrations build the whole schema, match the models exactly, and can be undone."""

import json
import os

import pytest
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect, text

from crm.database import SEARCH_TABLES
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
    """Tables in the database, less Alembic's own and the search index tables (migrations 0002,
    0021, 0023)."""
    names = set(inspect(_db.engine).get_table_names()) - {"alembic_version"}
    return {name for name in names if not name.startswith(SEARCH_TABLES)}


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


def test_0008_recomputes_first_responses_and_outcomes_from_the_timeline(empty_database_url):
    """Rows stamped under the old rule (any staff action) get the first real response, and
    closed inquiries get the outcome they were closed from; the same again in small batches."""
    import importlib.util
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    t = [datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(days=n) for n in range(8)]
    staff, nobody = 1, None
    cases = {
        # reference: status, old stamp, events (kind, actor, data, at) → first response, outcome
        "noted": ("triaged", t[1], [("note_added", staff, {}, t[0]),
                  ("status_changed", staff, {"old": "new", "new": "triaged"}, t[1])],
                  None, None),
        "replied": ("in_dialogue", t[1], [
                    ("status_changed", staff, {"old": "new", "new": "triaged"}, t[1]),
                    ("public_reply", staff, {"body": "Hej"}, t[3]),
                    ("public_reply", staff, {"body": "Igen"}, t[4])], t[3], None),
        "declined": ("declined", t[1], [
                     ("status_changed", staff, {"old": "new", "new": "declined"}, t[1])],
                     t[1], "declined"),
        "withdrawn": ("withdrawn", None, [
                      ("status_changed", nobody, {"old": "new", "new": "withdrawn",
                                                  "by": "submitter"}, t[1])], None, "withdrawn"),
        "closed_agreed": ("closed", t[1], [
                          ("status_changed", staff, {"old": "new", "new": "triaged"}, t[1]),
                          ("public_reply", staff, {}, t[2]),  # anonymised: still a reply
                          ("status_changed", staff, {"old": "in_dialogue", "new": "agreed"}, t[3]),
                          ("status_changed", staff, {"old": "agreed", "new": "closed"}, t[4])],
                          t[2], "agreed"),
        "reopened_then_agreed": ("closed", t[1], [
                          ("status_changed", staff, {"old": "triaged", "new": "declined"}, t[1]),
                          ("status_changed", staff, {"old": "declined", "new": "closed"}, t[2]),
                          ("reopened", staff, {"old": "closed", "new": "triaged"}, t[3]),
                          ("status_changed", staff, {"old": "in_dialogue", "new": "agreed"}, t[5]),
                          ("status_changed", staff, {"old": "agreed", "new": "closed"}, t[6])],
                          t[1], "agreed"),
        "closed_no_history": ("closed", t[1], [], None, None),
        "declined_by_nobody": ("declined", None, [
                      ("status_changed", nobody, {"old": "new", "new": "declined"}, t[1])],
                      None, "declined"),
        "spam": ("spam", t[1], [
                 ("status_changed", staff, {"old": "new", "new": "spam"}, t[1])], t[1], "spam"),
        "reopened_open": ("triaged", t[1], [
                 ("status_changed", staff, {"old": "triaged", "new": "declined"}, t[1]),
                 ("reopened", staff, {"old": "declined", "new": "triaged"}, t[2])], t[1], None),
    }  # fmt: skip
    metadata = sa.MetaData()
    users = sa.Table(
        "users", metadata, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String), sa.Column("name", sa.String), sa.Column("role", sa.String),
        sa.Column("active", sa.Boolean), sa.Column("password_hash", sa.String),
        sa.Column("session_version", sa.Integer), sa.Column("created_at", sa.DateTime(True)),
    )  # fmt: skip
    inquiries = sa.Table(
        "inquiries", metadata, sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(name, sa.String) for name in (
            "reference", "channel", "organisation_name", "organisation_type", "contact_name",
            "email", "category", "subject", "message", "addressee", "status", "priority",
            "outcome")),
        sa.Column("version", sa.Integer), sa.Column("first_response_at", sa.DateTime(True)),
        sa.Column("created_at", sa.DateTime(True)), sa.Column("updated_at", sa.DateTime(True)),
    )  # fmt: skip
    events = sa.Table(
        "timeline_events", metadata, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inquiry_id", sa.Integer), sa.Column("actor_id", sa.Integer),
        sa.Column("kind", sa.String), sa.Column("data", sa.JSON),
        sa.Column("created_at", sa.DateTime(True)),
    )  # fmt: skip

    def utc(value):
        return value and (value.replace(tzinfo=UTC) if value.tzinfo is None else value)

    def stored(connection):
        rows = connection.execute(
            sa.select(inquiries.c.reference, inquiries.c.first_response_at, inquiries.c.outcome)
        )
        return {row.reference: (utc(row.first_response_at), row.outcome) for row in rows}

    expected = {name: (case[3], case[4]) for name, case in cases.items()}
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0006")
        with _db.engine.begin() as connection:
            connection.execute(users.insert().values(
                id=staff, email="gs@exempel.se", name="GS", role="secretary_general",
                active=True, password_hash="x", session_version=1, created_at=t[0],
            ))  # fmt: skip
            for number, (name, (status, stamp, history, _, _)) in enumerate(cases.items(), 1):
                connection.execute(inquiries.insert().values(
                    id=number, reference=name, channel="web_form", organisation_name="O",
                    organisation_type="museum", contact_name="C", email=f"{name}@exempel.se",
                    category="research", subject="S", message="M", addressee="no_preference",
                    status=status, priority="normal", version=1, first_response_at=stamp,
                    created_at=t[0], updated_at=t[0],
                ))  # fmt: skip
                for kind, actor, data, moment in history:
                    connection.execute(events.insert().values(
                        inquiry_id=number, actor_id=actor, kind=kind, data=data,
                        created_at=moment,
                    ))  # fmt: skip
        upgrade(revision="0010")  # 0011 turns the replies into messages
        with _db.engine.connect() as connection:
            assert stored(connection) == expected

        # the same answer when every batch holds two inquiries
        path = os.path.join(
            os.path.dirname(__file__), "..", "migrations", "versions",
            "0008_first_response_and_outcome.py",
        )  # fmt: skip
        spec = importlib.util.spec_from_file_location("migration_0008", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        with _db.engine.begin() as connection:
            connection.execute(inquiries.update().values(first_response_at=t[7], outcome="spam"))
            migration.recompute(connection, batch=2)
        with _db.engine.connect() as connection:
            assert stored(connection) == expected

        downgrade(revision="0006")
        with _db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("inquiries")}
        assert "outcome" not in columns
        _db.engine.dispose()


def test_0011_turns_published_replies_into_messages_and_back(empty_database_url):
    """A reply published before 0011 (a timeline event holding its text) becomes one message
    of the thread, and the event keeps only who and when; downgrading gives the text back."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    T = [datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(days=n) for n in range(3)]

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0010")
        metadata = sa.MetaData()
        metadata.reflect(_db.engine, only=["inquiries", "timeline_events", "users"])
        inquiries, events = metadata.tables["inquiries"], metadata.tables["timeline_events"]
        with _db.engine.begin() as connection:
            connection.execute(inquiries.insert().values(
                id=1, reference="SAM-2026-0001", channel="web_form", organisation_name="O",
                organisation_type="museum", contact_name="C", email="c@exempel.se",
                category="research", subject="S", message="M", addressee="no_preference",
                status="in_dialogue", priority="normal", version=1, response_paused_days=0,
                created_at=T[0], updated_at=T[0],
            ))  # fmt: skip
            connection.execute(events.insert(), [
                {"inquiry_id": 1, "kind": "public_reply", "data": {"body": "Hej Anna"},
                 "created_at": T[1]},
                {"inquiry_id": 1, "kind": "public_reply", "data": {},  # anonymised
                 "created_at": T[2]},
                {"inquiry_id": 1, "kind": "status_changed", "data": {"old": "new"},
                 "created_at": T[1]},
            ])  # fmt: skip
        upgrade()
        with _db.engine.connect() as connection:
            messages = connection.execute(text(
                "SELECT inquiry_id, direction, channel, body FROM messages ORDER BY id"
            )).all()  # fmt: skip
            kinds = connection.execute(
                text("SELECT kind, data FROM timeline_events ORDER BY id")
            ).all()
        assert [tuple(m) for m in messages] == [
            (1, "outbound", "samverka", "Hej Anna"),
            (1, "outbound", "samverka", "–"),
        ]
        assert [(kind, data if isinstance(data, dict) else json.loads(data))
                for kind, data in kinds] == [
            ("public_reply", {}), ("public_reply", {}), ("status_changed", {"old": "new"}),
        ]  # fmt: skip
        downgrade(revision="0010")
        with _db.engine.connect() as connection:
            bodies = connection.scalars(text(
                "SELECT data FROM timeline_events WHERE kind = 'public_reply' ORDER BY id"
            )).all()  # fmt: skip
        assert [b if isinstance(b, dict) else json.loads(b) for b in bodies] == [
            {"body": "Hej Anna"},
            {"body": "–"},
        ]
        _db.engine.dispose()


def test_0018_merges_contacts_sharing_an_organisation_and_address(empty_database_url):
    """Contacts that already share an organisation and an address (any case) become the
    oldest one, with the title and phone only the later ones had; others are untouched."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0017")
        with _db.engine.begin() as connection:
            for org_id, name in ((1, "Ett"), (2, "Två")):
                connection.execute(
                    text(
                        "INSERT INTO organisations (id, name, name_key, type, relationship,"
                        " created_at, updated_at) VALUES (:id, :name, :key, 'museum', 'member',"
                        " '2026-01-01', '2026-01-01')"
                    ),
                    {"id": org_id, "name": name, "key": name.lower()},
                )
            contacts = [
                (1, 1, "Kim", "kim@museum.se", None, None),
                (2, 1, "Kim K", "KIM@museum.se ", "Intendent", "070-1"),
                (3, 1, "Kim igen", "Kim@Museum.se", "Chef", None),
                (4, 2, "Kim", "kim@museum.se", None, None),  # another organisation
                (5, 1, "Utan adress", None, None, None),
                (6, 1, "Också utan", None, None, None),
            ]
            for row in contacts:
                connection.execute(
                    text(
                        "INSERT INTO contacts (id, organisation_id, name, email, title, phone,"
                        " created_at) VALUES (:id, :org, :name, :email, :title, :phone,"
                        " '2026-01-01')"
                    ),
                    dict(zip(("id", "org", "name", "email", "title", "phone"), row, strict=True)),
                )
        upgrade()
        with _db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, name, email_key, title, phone FROM contacts ORDER BY id")
            ).all()
        assert [tuple(row) for row in rows] == [
            (1, "Kim", "kim@museum.se", "Intendent", "070-1"),
            (4, "Kim", "kim@museum.se", None, None),
            (5, "Utan adress", None, None, None),
            (6, "Också utan", None, None, None),
        ]
        with pytest.raises(Exception, match=r"(?i)unique"), _db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contacts (organisation_id, name, email, email_key, created_at)"
                    " VALUES (1, 'Dubblett', 'kim@museum.se', 'kim@museum.se', '2026-01-01')"
                )
            )
        downgrade(revision="0017")
        _db.engine.dispose()


def test_0019_refuses_to_downgrade_while_mail_waits_to_be_rendered(empty_database_url, capfd):
    """The older sender would send a message queued for rendering with an empty body: the
    downgrade refuses while one may still go out, and goes ahead once it is sent."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with _db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO outbox_messages (kind, recipient, subject, body_text, render_data,"
                    " status, message_id, attempts, next_attempt_at, pending_since, created_at)"
                    " VALUES ('receipt', 'a@exempel.se', '', '', :data, 'failed', '<a@b>', 3,"
                    " :at, :at, :at)"
                ),
                {"data": json.dumps({"template": "receipt"}), "at": "2026-12-03 10:00:00+00:00"},
            )
        with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error, exits 1
            downgrade(revision="0018")
        assert "1 queued e-mails are not rendered yet" in capfd.readouterr().err
        upgrade()  # wherever the refused downgrade stopped, back to the head
        with _db.engine.begin() as connection:
            connection.execute(text("UPDATE outbox_messages SET status = 'discarded'"))
        downgrade(revision="0018")
        with _db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("outbox_messages")}
            assert connection.scalar(text("SELECT count(*) FROM outbox_messages")) == 1
        assert "render_data" not in columns
        _db.engine.dispose()


def test_every_search_table_is_kept_in_step_by_its_three_triggers(db):
    """SQLite's search tables are filled by triggers; a later migration that rebuilds a table
    (Alembic's batch mode on SQLite) drops its triggers without a word."""
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's search tables; PostgreSQL's indexes need no triggers")
    listed = text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    triggers = set(_db.session.scalars(listed))
    for table in SEARCH_TABLES:
        assert {f"{table}_insert", f"{table}_update", f"{table}_delete"} <= triggers, table
