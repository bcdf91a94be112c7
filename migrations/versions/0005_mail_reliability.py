"""mail reliability: stable Message-ID, claims with a lease, held and discarded messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:00:00

Each outbox row gets the Message-ID it is sent with (kept across retries), the start of its
give-up window (pending_since) and a sender's lease (claimed_by, claimed_until). The status
gains `sending`, `held` and `discarded`, which widens the stored string to 9 characters.
Existing rows get a Message-ID made of their id and one random token per migration run, and
their give-up window starts when they were queued.
"""
import secrets
from email.utils import parseaddr

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OLD_STATUS = sa.Enum('pending', 'sent', 'failed', name='outboxstatus', native_enum=False)
NEW_STATUS = sa.Enum(
    'pending', 'sending', 'sent', 'failed', 'held', 'discarded',
    name='outboxstatus', native_enum=False,
)


def _sender_domain() -> str:
    try:
        from flask import current_app

        address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    except (ImportError, RuntimeError, KeyError):
        address = ""
    return address.rpartition("@")[2] or "localhost"


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('pending_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            'status', existing_type=OLD_STATUS, type_=NEW_STATUS, existing_nullable=False
        )

    outbox = sa.table(
        'outbox_messages',
        sa.column('id', sa.Integer),
        sa.column('message_id', sa.String),
        sa.column('pending_since', sa.DateTime(timezone=True)),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    token = secrets.token_hex(8)
    op.execute(
        outbox.update().values(
            message_id=sa.literal('<sam.') + sa.cast(outbox.c.id, sa.String)
            + sa.literal(f'.{token}@{_sender_domain()}>'),
            pending_since=outbox.c.created_at,
        )
    )

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column(
            'pending_since', existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_unique_constraint(
            batch_op.f('uq_outbox_messages_message_id'), ['message_id']
        )


def downgrade():
    outbox = sa.table('outbox_messages', sa.column('status', sa.String))
    # The old statuses cannot say "being sent", "held" or "discarded": a message being sent
    # goes back to the queue (at least once); held and discarded ones, which may have gone
    # out already, count as failed rather than being sent blindly.
    op.execute(outbox.update().where(outbox.c.status == 'sending').values(status='pending'))
    op.execute(
        outbox.update().where(outbox.c.status.in_(('held', 'discarded'))).values(status='failed')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_messages_message_id'), type_='unique')
        batch_op.alter_column(
            'status', existing_type=NEW_STATUS, type_=OLD_STATUS, existing_nullable=False
        )
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('pending_since')
        batch_op.drop_column('message_id')
