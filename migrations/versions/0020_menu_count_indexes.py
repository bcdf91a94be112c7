"""the menu's counts read the two partial inbox indexes alone: status added to them

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 23:00:00

The menu badge counts, on every staff page, my inquiries awaiting a first response and those
handed to me and not opened yet. Both have a partial index; with the status in it, the count
needs no table rows.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

AWAITING = sa.text('first_response_at IS NULL')
UNSEEN = sa.text('assignee_seen_at IS NULL')


def _replace(name, columns, where):
    op.drop_index(name, table_name='inquiries')
    op.create_index(
        name, 'inquiries', columns, unique=False, postgresql_where=where, sqlite_where=where
    )


def upgrade():
    _replace('ix_inquiries_awaiting_response',
             ['assignee_id', 'first_response_due_at', 'id', 'status'], AWAITING)
    _replace('ix_inquiries_assignee_unseen', ['assignee_id', 'created_at', 'id', 'status'], UNSEEN)


def downgrade():
    _replace('ix_inquiries_awaiting_response', ['assignee_id', 'first_response_due_at', 'id'],
             AWAITING)
    _replace('ix_inquiries_assignee_unseen', ['assignee_id', 'created_at', 'id'], UNSEEN)
