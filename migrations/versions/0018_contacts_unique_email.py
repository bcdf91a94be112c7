"""one contact per organisation and e-mail address; staged organisation imports

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 18:30:00

Contacts that already share an organisation and an address (whatever its case) are merged
into the oldest of them: its empty title and phone are filled from the later ones, which are
then deleted. They describe the same person at the same place; keeping the oldest keeps the
record staff have seen longest.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


contacts = sa.table(
    'contacts',
    sa.column('id', sa.Integer), sa.column('organisation_id', sa.Integer),
    sa.column('email', sa.String), sa.column('email_key', sa.String),
    sa.column('title', sa.String), sa.column('phone', sa.String),
)


def fold_existing(connection) -> int:
    """Fill `email_key` and merge duplicates into the oldest; returns how many were merged."""
    rows = connection.execute(
        sa.select(contacts.c.id, contacts.c.organisation_id, contacts.c.email,
                  contacts.c.title, contacts.c.phone)
        .where(contacts.c.email.is_not(None))
        .order_by(contacts.c.id)
    ).all()
    kept: dict[tuple, dict] = {}
    merged = []
    for row in rows:
        key = (row.email or '').strip().lower() or None
        if key is None:
            continue
        first = kept.get((row.organisation_id, key))
        if first is None:
            kept[(row.organisation_id, key)] = {
                'id': row.id, 'key': key, 'title': row.title, 'phone': row.phone,
                'filled': {},
            }
            continue
        for name in ('title', 'phone'):
            if not first[name] and getattr(row, name):
                first[name] = first['filled'][name] = getattr(row, name)
        merged.append(row.id)
    if merged:
        connection.execute(contacts.delete().where(contacts.c.id.in_(merged)))
    for first in kept.values():
        connection.execute(
            contacts.update().where(contacts.c.id == first['id'])
            .values(email_key=first['key'], **first['filled'])
        )
    return len(merged)


def upgrade():
    op.create_table('organisation_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('verdicts', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organisation_imports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_imports'))
    )
    with op.batch_alter_table('organisation_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_imports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_imports_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_key', sa.String(length=254), nullable=True))
    fold_existing(op.get_bind())
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_contacts_organisation_id'), ['organisation_id', 'email_key'])


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_contacts_organisation_id'), type_='unique')
        batch_op.drop_column('email_key')

    with op.batch_alter_table('organisation_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_imports_user_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_imports_created_at'))

    op.drop_table('organisation_imports')
