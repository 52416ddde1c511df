"""the PDI/PTI's adopting délibération number and what the Assemblée does with its bilan; the FSE+ grant and
the délibération deciding a dénonciation, on the convention

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 08:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: a batch would rebuild the convention table on SQLite and lose its expression index (0013)
    op.add_column('convention', sa.Column('fse_accorde_le', sa.Date(), nullable=True))
    op.add_column('convention', sa.Column('denonciation_deliberation_numero', sa.String(length=60), nullable=True))
    op.add_column('convention', sa.Column('denonciation_deliberation_date', sa.Date(), nullable=True))
    op.add_column('pacte', sa.Column('adoption_numero', sa.String(length=60), nullable=True))
    op.add_column('pacte', sa.Column('bilan_decision', sa.String(length=20), nullable=False,
                                     server_default='prise_acte'))


def downgrade() -> None:
    with op.batch_alter_table('pacte') as batch:
        batch.drop_column('bilan_decision')
        batch.drop_column('adoption_numero')
    for name in ('denonciation_deliberation_date', 'denonciation_deliberation_numero', 'fse_accorde_le'):
        op.execute(f'ALTER TABLE convention DROP COLUMN {name}')  # SQLite ≥ 3.35 and PostgreSQL alike
