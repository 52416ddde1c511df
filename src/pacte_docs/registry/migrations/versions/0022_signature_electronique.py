"""a convention signed by the Département in pacte: one electronic original

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 16:22:40
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


# a plain ALTER TABLE, not Alembic's batch mode: SQLite adds a column with a constant default in place, and a
# rebuilt table would lose the expression index on the responsable's e-mail (ix_convention_responsable_minuscules)
def upgrade() -> None:
    op.add_column('convention', sa.Column('signature_electronique', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('convention', 'signature_electronique')
