"""reply templates; the submitter's language and the counterpart's case number on inquiries

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reply_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('text_sv', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_reply_templates_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_templates'))
    )
    with op.batch_alter_table('reply_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_templates_owner_id'), ['owner_id'], unique=False)

    # Plain ALTER TABLE (no batch): recreating `inquiries` on SQLite would drop its search
    # triggers (0002) and, with foreign keys on, cascade the drop to its rows' dependants.
    op.add_column('inquiries', sa.Column('language', sa.String(length=2), nullable=True))
    op.add_column('inquiries', sa.Column('counterpart_reference', sa.String(length=60), nullable=True))
    op.add_column('inquiries', sa.Column('counterpart_key', sa.String(length=180), nullable=True))
    op.create_index('ix_inquiries_counterpart_key', 'inquiries', ['counterpart_key'], unique=False, postgresql_where=sa.text('counterpart_key IS NOT NULL'), sqlite_where=sa.text('counterpart_key IS NOT NULL'))


def downgrade():
    op.drop_index('ix_inquiries_counterpart_key', table_name='inquiries')
    op.drop_column('inquiries', 'counterpart_key')
    op.drop_column('inquiries', 'counterpart_reference')
    op.drop_column('inquiries', 'language')

    with op.batch_alter_table('reply_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_templates_owner_id'))

    op.drop_table('reply_templates')
