"""a one-time link for an agent to choose their password

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 11:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agent') as batch:
        batch.add_column(sa.Column('invitation', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('invitation_expire', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agent') as batch:
        batch.drop_column('invitation_expire')
        batch.drop_column('invitation')
