"""an index of the conventions by their director's address in lower case, with their reference

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_convention_responsable_minuscules', 'convention',
                    [sa.text('lower(responsable_email)'), 'reference'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_convention_responsable_minuscules', table_name='convention')
