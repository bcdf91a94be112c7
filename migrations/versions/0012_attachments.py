"""attachments: files of an inquiry's original message, its messages, notes and received mail

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:50:00

The files themselves live in ATTACHMENTS_DIR; a row names its file by `storage_key`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('inbound_mail_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('extension', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=120), nullable=False),
    sa.Column('scan_status', sa.Enum('pending', 'clean', 'infected', 'not_scanned', name='scanstatus', native_enum=False), nullable=False),
    sa.Column('scan_signature', sa.String(length=200), nullable=True),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inbound_mail_id'], ['inbound_mails.id'], name=op.f('fk_attachments_inbound_mail_id_inbound_mails'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_attachments_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['note_id'], ['notes.id'], name=op.f('fk_attachments_note_id_notes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_inbound_mail_id', ['inbound_mail_id'], unique=False)
        batch_op.create_index('ix_attachments_inquiry_id', ['inquiry_id'], unique=False)
        batch_op.create_index('ix_attachments_message_id', ['message_id'], unique=False)
        batch_op.create_index('ix_attachments_note_id', ['note_id'], unique=False)
        batch_op.create_index('ix_attachments_scan_status', ['scan_status'], unique=False)


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_scan_status')
        batch_op.drop_index('ix_attachments_note_id')
        batch_op.drop_index('ix_attachments_message_id')
        batch_op.drop_index('ix_attachments_inquiry_id')
        batch_op.drop_index('ix_attachments_inbound_mail_id')

    op.drop_table('attachments')
