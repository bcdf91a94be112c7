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
