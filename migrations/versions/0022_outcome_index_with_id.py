"""the pipeline's outcome columns read (outcome, closed_at, id) in order

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 06:30:00

The outcome columns show the latest decided first, ordered by (closed_at, id). Without the id
in the index PostgreSQL read and sorted every outcome of the last three months (2 000 rows,
10 ms at 100 000 inquiries) to break ties it almost never has.
"""
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def _replace(columns):
    op.drop_index('ix_inquiries_outcome_closed_at', table_name='inquiries')
    op.create_index('ix_inquiries_outcome_closed_at', 'inquiries', columns, unique=False)


def upgrade():
    _replace(['outcome', 'closed_at', 'id'])


def downgrade():
    _replace(['outcome', 'closed_at'])
