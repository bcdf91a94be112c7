"""the conversation: messages both ways, inbound mail, threading headers on outgoing mail

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00

Replies staff published before were timeline events with their text in the event's data;
they become messages (outbound, written in Samverka) and the events keep only who and when,
so each reply's text is stored once. Plain ALTER TABLE on `inquiries` (no batch copy): copying it on SQLite would
drop the search triggers of migration 0002.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

REPLIED = sa.text("submitter_replied_at IS NOT NULL")
ANONYMISED = "–"


def upgrade():
    op.create_table(
        'inbound_mails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=9), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=True),
        sa.Column('matched_by', sa.String(length=20), nullable=True),
        sa.Column('sender_address', sa.String(length=254), nullable=True),
        sa.Column('sender_name', sa.String(length=200), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('raw', sa.LargeBinary(), nullable=True),
        sa.Column('automatic', sa.Boolean(), nullable=False),
        sa.Column('flooded', sa.Boolean(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['inquiry_id'], ['inquiries.id'], name=op.f('fk_inbound_mails_inquiry_id_inquiries'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_mails')),
        sa.UniqueConstraint('message_id', name=op.f('uq_inbound_mails_message_id')),
    )
    op.create_index(
        op.f('ix_inbound_mails_inquiry_id'), 'inbound_mails', ['inquiry_id'], unique=False
    )
    op.create_index(
        op.f('ix_inbound_mails_sender_address'), 'inbound_mails', ['sender_address'],
        unique=False,
    )
    op.create_index(
        'ix_inbound_mails_status_received_at', 'inbound_mails', ['status', 'received_at'],
        unique=False,
    )
    messages = op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('channel', sa.String(length=11), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('sender_name', sa.String(length=200), nullable=True),
        sa.Column('sender_address', sa.String(length=254), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=True),
        sa.Column('inbound_mail_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['users.id'], name=op.f('fk_messages_author_id_users'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['inbound_mail_id'], ['inbound_mails.id'],
            name=op.f('fk_messages_inbound_mail_id_inbound_mails'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['inquiry_id'], ['inquiries.id'], name=op.f('fk_messages_inquiry_id_inquiries'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
        sa.UniqueConstraint('message_id', name=op.f('uq_messages_message_id')),
    )
    op.create_index(
        'ix_messages_inquiry_created_at', 'messages', ['inquiry_id', 'created_at', 'id'],
        unique=False,
    )
    with op.batch_alter_table('outbox_messages') as batch_op:
        batch_op.add_column(sa.Column('from_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('in_reply_to', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('thread_references', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('inquiries', sa.Column('status_link_seed', sa.String(length=64)))
    op.add_column('inquiries', sa.Column('submitter_replied_at', sa.DateTime(timezone=True)))
    op.create_index(
        'ix_inquiries_submitter_replied', 'inquiries', ['assignee_id', 'submitter_replied_at'],
        unique=False, postgresql_where=REPLIED, sqlite_where=REPLIED,
    )
    _replies_become_messages(messages)


def _events_table():
    return sa.table(
        'timeline_events',
        sa.column('id', sa.Integer()), sa.column('inquiry_id', sa.Integer()),
        sa.column('actor_id', sa.Integer()), sa.column('kind', sa.String()),
        sa.column('data', sa.JSON()), sa.column('created_at', sa.DateTime(timezone=True)),
    )


def _replies_become_messages(messages):
    events = _events_table()
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(events).where(events.c.kind == 'public_reply', events.c.inquiry_id.is_not(None))
    ).all()
    if not rows:
        return
    connection.execute(
        messages.insert(),
        [
            {
                'inquiry_id': row.inquiry_id, 'direction': 'outbound', 'channel': 'samverka',
                'author_id': row.actor_id, 'body': (row.data or {}).get('body') or ANONYMISED,
                'created_at': row.created_at,
            }
            for row in rows
        ],
    )
    connection.execute(
        events.update().where(events.c.id.in_([row.id for row in rows])).values(data={})
    )


def downgrade():
    # Staff replies go back to being timeline events holding their text; answers from
    # submitters had no place before this revision and are lost.
    messages = sa.table(
        'messages',
        sa.column('inquiry_id', sa.Integer()), sa.column('author_id', sa.Integer()),
        sa.column('direction', sa.String()), sa.column('body', sa.Text()),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    replies = connection.execute(
        sa.select(messages).where(messages.c.direction == 'outbound')
    ).all()
    events = _events_table()
    connection.execute(events.delete().where(events.c.kind == 'public_reply'))
    if replies:
        connection.execute(
            events.insert(),
            [
                {
                    'inquiry_id': row.inquiry_id, 'actor_id': row.author_id,
                    'kind': 'public_reply', 'data': {'body': row.body},
                    'created_at': row.created_at,
                }
                for row in replies
            ],
        )
    op.drop_index('ix_inquiries_submitter_replied', table_name='inquiries')
    op.drop_column('inquiries', 'submitter_replied_at')
    op.drop_column('inquiries', 'status_link_seed')
    with op.batch_alter_table('outbox_messages') as batch_op:
        batch_op.drop_column('bounced_at')
        batch_op.drop_column('thread_references')
        batch_op.drop_column('in_reply_to')
        batch_op.drop_column('reply_to')
        batch_op.drop_column('from_name')
    op.drop_index('ix_messages_inquiry_created_at', table_name='messages')
    op.drop_table('messages')
    op.drop_index('ix_inbound_mails_status_received_at', table_name='inbound_mails')
    op.drop_index(op.f('ix_inbound_mails_sender_address'), table_name='inbound_mails')
    op.drop_index(op.f('ix_inbound_mails_inquiry_id'), table_name='inbound_mails')
    op.drop_table('inbound_mails')
