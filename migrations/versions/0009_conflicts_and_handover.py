"""jäv declarations, and the assignee's "seen" stamp for handed-over inquiries

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00

Inquiries that already have an assignee count as seen (the migration cannot know), so the
new inbox group starts empty instead of listing every open inquiry at once.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

UNSEEN = sa.text("assignee_seen_at IS NULL")


def upgrade():
    op.create_table(
        'conflict_declarations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['inquiry_id'], ['inquiries.id'],
            name=op.f('fk_conflict_declarations_inquiry_id_inquiries'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_conflict_declarations_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_declarations')),
        sa.UniqueConstraint(
            'inquiry_id', 'user_id', name=op.f('uq_conflict_declarations_inquiry_id')
        ),
    )
    op.create_index(
        op.f('ix_conflict_declarations_user_id'), 'conflict_declarations', ['user_id'],
        unique=False,
    )
    # Plain ALTER TABLE (no batch copy): on SQLite a copied table would lose the search
    # triggers of migration 0002.
    op.add_column('inquiries', sa.Column('assignee_seen_at', sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE inquiries SET assignee_seen_at = updated_at WHERE assignee_id IS NOT NULL"
    )
    op.create_index(
        'ix_inquiries_assignee_unseen', 'inquiries', ['assignee_id', 'created_at', 'id'],
        unique=False, postgresql_where=UNSEEN, sqlite_where=UNSEEN,
    )


def downgrade():
    op.drop_index('ix_inquiries_assignee_unseen', table_name='inquiries')
    op.drop_column('inquiries', 'assignee_seen_at')
    op.drop_index(op.f('ix_conflict_declarations_user_id'), table_name='conflict_declarations')
    op.drop_table('conflict_declarations')
