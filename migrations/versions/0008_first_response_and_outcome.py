"""first response means a response to the partner; the outcome survives closing

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:00:00

`first_response_at` was stamped by any staff action (a note, a priority change, a move to
`triaged`). It is recomputed from the timeline under the new rule: the earliest public reply,
or a move to `declined` or `spam` by a person; NULL otherwise (contacts logged outside
Samverka did not exist before this revision).

`outcome` keeps how an inquiry ended. It is filled from the status for agreed, declined,
withdrawn and spam inquiries, and for closed ones from the status they were closed from (the
last `status_changed` event into `closed`). A closed inquiry whose timeline cannot tell keeps
NULL, and retention then applies the general period to it.

Rows are read and written in batches, in Python, so the JSON of the timeline is read the same
way on SQLite and PostgreSQL. Downgrading drops the outcome; the old stamps cannot come back.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BATCH = 500
OUTCOME = sa.Enum('agreed', 'declined', 'withdrawn', 'spam', name='outcome', native_enum=False)
OUTCOMES = ('agreed', 'declined', 'withdrawn', 'spam')
RESPONDING = ('declined', 'spam')
AWAITING = sa.text('first_response_at IS NULL')

inquiries = sa.table(
    'inquiries',
    sa.column('id', sa.Integer),
    sa.column('status', sa.String),
    sa.column('outcome', sa.String),
    sa.column('first_response_at', sa.DateTime(timezone=True)),
)
events = sa.table(
    'timeline_events',
    sa.column('id', sa.Integer),
    sa.column('inquiry_id', sa.Integer),
    sa.column('actor_id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('data', sa.JSON),
    sa.column('created_at', sa.DateTime(timezone=True)),
)


def upgrade():
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', OUTCOME, nullable=True))
        batch_op.create_index(
            'ix_inquiries_outcome_closed_at', ['outcome', 'closed_at'], unique=False
        )
        batch_op.create_index(
            'ix_inquiries_awaiting_response', ['assignee_id', 'first_response_due_at', 'id'],
            unique=False, postgresql_where=AWAITING, sqlite_where=AWAITING,
        )
    recompute(op.get_bind())


def recompute(connection, batch: int = BATCH) -> None:
    """Set every inquiry's first response and outcome from its timeline, a batch at a time."""
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(inquiries.c.id, inquiries.c.status, inquiries.c.first_response_at)
            .where(inquiries.c.id > last_id)
            .order_by(inquiries.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        history = {row.id: [] for row in rows}
        for event in connection.execute(
            sa.select(
                events.c.inquiry_id, events.c.actor_id, events.c.kind, events.c.data,
                events.c.created_at,
            )
            .where(
                events.c.inquiry_id.in_(list(history)),
                events.c.kind.in_(('public_reply', 'status_changed')),
            )
            .order_by(events.c.created_at, events.c.id)
        ):
            history[event.inquiry_id].append(event)
        changes = [
            {
                'row_id': row.id,
                'first_response': first_response(history[row.id]),
                'row_outcome': outcome(row.status, history[row.id]),
            }
            for row in rows
        ]
        # Only rows that change: on SQLite every UPDATE also rewrites the row's search entry.
        changes = [
            change for change, row in zip(changes, rows)
            if change['row_outcome'] is not None or change['first_response'] != row.first_response_at
        ]
        if changes:
            connection.execute(
                inquiries.update()
                .where(inquiries.c.id == sa.bindparam('row_id'))
                .values(
                    first_response_at=sa.bindparam('first_response'),
                    outcome=sa.bindparam('row_outcome'),
                ),
                changes,
            )


def first_response(history):
    """The earliest public reply, or move to declined or spam by a person; None if neither."""
    for event in history:  # oldest first
        if event.kind == 'public_reply':
            return event.created_at
        if (
            event.kind == 'status_changed'
            and event.actor_id is not None
            and (event.data or {}).get('new') in RESPONDING
        ):
            return event.created_at
    return None


def outcome(status, history):
    """The status itself for an outcome; for a closed inquiry, the status it was closed from."""
    if status in OUTCOMES:
        return status
    if status != 'closed':
        return None
    into_closed = [
        event for event in history
        if event.kind == 'status_changed' and (event.data or {}).get('new') == 'closed'
    ]
    if into_closed:
        old = (into_closed[-1].data or {}).get('old')
        return old if old in OUTCOMES else None
    return None


def downgrade():
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiries_awaiting_response')
        batch_op.drop_index('ix_inquiries_outcome_closed_at')
        batch_op.drop_column('outcome')
