"""Indexed substring search over inquiries: pg_trgm on PostgreSQL, FTS5 trigram on SQLite.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Must stay identical to lower() of crm.inquiries.queries.SEARCH_TEXT, or PostgreSQL won't use the index.
SEARCH_TEXT_SQL = (
    "lower(reference || ' ' || subject || ' ' || message || ' ' || organisation_name"
    " || ' ' || contact_name || ' ' || email)"
)
SQLITE_ROW = (
    "lower(new.reference || ' ' || new.subject || ' ' || new.message || ' ' ||"
    " new.organisation_name || ' ' || new.contact_name || ' ' || new.email)"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX ix_inquiries_search_trgm ON inquiries USING gin ({SEARCH_TEXT_SQL} gin_trgm_ops)"
        )
        return
    op.execute("CREATE VIRTUAL TABLE inquiry_search USING fts5(body, tokenize='trigram')")
    op.execute(f"INSERT INTO inquiry_search(rowid, body) SELECT id, {SEARCH_TEXT_SQL} FROM inquiries")
    op.execute(
        "CREATE TRIGGER inquiry_search_insert AFTER INSERT ON inquiries BEGIN "
        f"INSERT INTO inquiry_search(rowid, body) VALUES (new.id, {SQLITE_ROW}); END"
    )
    op.execute(
        "CREATE TRIGGER inquiry_search_update AFTER UPDATE ON inquiries BEGIN "
        "DELETE FROM inquiry_search WHERE rowid = old.id; "
        f"INSERT INTO inquiry_search(rowid, body) VALUES (new.id, {SQLITE_ROW}); END"
    )
    op.execute(
        "CREATE TRIGGER inquiry_search_delete AFTER DELETE ON inquiries BEGIN "
        "DELETE FROM inquiry_search WHERE rowid = old.id; END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_inquiries_search_trgm")
        return
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS inquiry_search_{trigger}")
    op.execute("DROP TABLE IF EXISTS inquiry_search")
