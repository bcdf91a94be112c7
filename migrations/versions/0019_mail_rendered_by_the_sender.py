"""mail rendered by the sender: what a queued message needs to be rendered at its first claim

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:00:00

A submission's receipt and assignee notice are no longer rendered in the request: the outbox
row holds the template, the language and the ids its context is built from (`render_data`),
with empty subject and bodies, until the sender renders it. Existing rows are all rendered
and keep NULL.

Downgrading refuses while a message that may still be sent waits to be rendered: the older
sender would send it empty. Run `flask crm send-mail` (or discard it on /admin/mail) first.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# Statuses from which a message can still go out (the admin may send a failed or held one).
MAY_BE_SENT = ('pending', 'sending', 'failed', 'held')


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_data', sa.JSON(), nullable=True))


def downgrade():
    outbox = sa.table(
        'outbox_messages', sa.column('status', sa.String), sa.column('render_data', sa.JSON)
    )
    waiting = op.get_bind().scalar(
        sa.select(sa.func.count()).select_from(outbox).where(
            outbox.c.render_data.is_not(None), outbox.c.status.in_(MAY_BE_SENT)
        )
    )
    if waiting:
        raise RuntimeError(
            f"{waiting} queued e-mails are not rendered yet and would go out empty after the "
            "downgrade: send them first (flask crm send-mail) or discard them on /admin/mail."
        )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('render_data')
