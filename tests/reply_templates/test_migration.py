"""Migration 0016 on a database with data: inquiries keep their rows, their dependants and
their search index both ways (on SQLite a table rebuild would lose the search triggers)."""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from crm.extensions import db as _db
from tests import test_migrations
from tests.conftest import make_app

empty_database_url = test_migrations.empty_database_url  # the fixture, shared

T = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _search(connection, word: str) -> list[int]:
    if connection.dialect.name != "sqlite":
        return [1]  # the trigram index of 0002 is a plain expression index there
    return (
        connection.execute(
            sa.text("SELECT rowid FROM inquiry_search WHERE inquiry_search MATCH :q"), {"q": word}
        )
        .scalars()
        .all()
    )


def test_0016_up_and_down_with_data(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0015")
        metadata = sa.MetaData()
        metadata.reflect(_db.engine, only=["inquiries", "timeline_events"])
        inquiries, events = metadata.tables["inquiries"], metadata.tables["timeline_events"]
        with _db.engine.begin() as connection:
            connection.execute(inquiries.insert().values(
                id=1, reference="SAM-2026-0001", channel="web_form", organisation_name="O",
                organisation_type="municipality_region", contact_name="C", email="c@exempel.se",
                category="research", subject="Textilhantverk", message="M",
                addressee="no_preference", status="triaged", priority="normal", version=1,
                response_paused_days=0, created_at=T, updated_at=T,
            ))  # fmt: skip
            connection.execute(
                events.insert().values(inquiry_id=1, kind="note_added", data={}, created_at=T)
            )

        upgrade(revision="0016")
        with _db.engine.begin() as connection:
            row = connection.execute(
                sa.text("SELECT language, counterpart_reference, counterpart_key, subject"
                        " FROM inquiries")
            ).one()  # fmt: skip
            assert tuple(row) == (None, None, None, "Textilhantverk")
            assert connection.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 1
            assert _search(connection, "textil") == [1]
            connection.execute(sa.text(
                "UPDATE inquiries SET counterpart_reference = 'KS 2026/1', "
                "counterpart_key = 'ks2026/1', language = 'en', subject = 'Broderi' WHERE id = 1"
            ))  # fmt: skip
            connection.execute(sa.text(
                "INSERT INTO reply_templates (name, text_sv, owner_id, created_at, updated_at)"
                " VALUES ('Tack', 'Hej {kontakt}', NULL, :t, :t)"
            ), {"t": T})  # fmt: skip
            assert _search(connection, "broderi") == [1]  # the search triggers still fire

        downgrade(revision="0015")
        with _db.engine.begin() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("inquiries")}
            assert not {"language", "counterpart_reference", "counterpart_key"} & columns
            assert "reply_templates" not in sa.inspect(connection).get_table_names()
            assert connection.execute(sa.text("SELECT subject FROM inquiries")).scalar() == (
                "Broderi"
            )
            assert connection.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 1
            connection.execute(sa.text("UPDATE inquiries SET subject = 'Knyppling' WHERE id = 1"))
            assert _search(connection, "knyppling") == [1]

        upgrade()  # and up again to head
        _db.engine.dispose()
