"""tags on inquiries and organisations, and saved views of the inquiry list

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 18:12:19
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=180), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('key', name=op.f('uq_tags_key'))
    )
    op.create_table('organisation_tags',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_tags_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_organisation_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'tag_id', name=op.f('pk_organisation_tags'))
    )
    with op.batch_alter_table('organisation_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_saved_views_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views'))
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_views_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_views_shared'), ['shared'], unique=False)

    op.create_table('inquiry_tags',
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_inquiry_tags_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_inquiry_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inquiry_id', 'tag_id', name=op.f('pk_inquiry_tags'))
    )
    with op.batch_alter_table('inquiry_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_tags_tag_id'), ['tag_id'], unique=False)



def downgrade():
    with op.batch_alter_table('inquiry_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_tags_tag_id'))

    op.drop_table('inquiry_tags')
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_views_shared'))
        batch_op.drop_index(batch_op.f('ix_saved_views_owner_id'))

    op.drop_table('saved_views')
    with op.batch_alter_table('organisation_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_tags_tag_id'))

    op.drop_table('organisation_tags')
    op.drop_table('tags')
