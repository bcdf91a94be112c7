"""two-factor roles: the roles the admin requires two-factor log-in of

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('two_factor_roles',
    sa.Column('role', sa.Enum('secretary_general', 'chair', 'board', 'admin', name='role', native_enum=False), nullable=False),
    sa.PrimaryKeyConstraint('role', name=op.f('pk_two_factor_roles'))
    )


def downgrade():
    op.drop_table('two_factor_roles')
