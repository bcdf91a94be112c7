"""the response clock pauses while an inquiry is on hold

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00

Plain ALTER TABLE (no batch copy): copying `inquiries` on SQLite would drop the search
index's triggers from migration 0002. Inquiries on hold when this runs start their pause now.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('inquiries', sa.Column('response_paused_at', sa.DateTime(timezone=True)))
    op.add_column(
        'inquiries',
        sa.Column('response_paused_days', sa.Integer(), nullable=False, server_default='0'),
    )
    op.execute(
        "UPDATE inquiries SET response_paused_at = CURRENT_TIMESTAMP "
        "WHERE status = 'on_hold' AND first_response_at IS NULL"
    )


def downgrade():
    op.drop_column('inquiries', 'response_paused_days')
    op.drop_column('inquiries', 'response_paused_at')
