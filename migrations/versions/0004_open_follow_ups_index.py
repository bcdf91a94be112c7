"""partial index on open follow-ups by owner and due date

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 20:40:00

The inbox asks for a person's first 50 open follow-ups in due order. The old index
(owner_id, completed_at, due_on) found them but could not give them in (due_on, id)
order, so PostgreSQL joined and sorted every open follow-up first (7 ms for 1 400).
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OPEN = sa.text("completed_at IS NULL")


def upgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_owner_open_due')
        batch_op.create_index(
            'ix_follow_ups_owner_open_due', ['owner_id', 'due_on', 'id'], unique=False,
            postgresql_where=OPEN, sqlite_where=OPEN,
        )


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_owner_open_due')
        batch_op.create_index(
            'ix_follow_ups_owner_open_due', ['owner_id', 'completed_at', 'due_on'], unique=False
        )
