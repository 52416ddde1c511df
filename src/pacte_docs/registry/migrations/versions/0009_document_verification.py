"""what was found about a signed copy when it was recorded — its electronic signatures, whether its text is the
convention's — kept with its record (document.verification)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Signed copies recorded before were not checked: their verification stays empty.
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('verification')
