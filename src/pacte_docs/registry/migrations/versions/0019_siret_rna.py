"""the Département's SIRET and a partner's RNA number: the published data of subsidies (SCDL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departement') as batch:
        batch.add_column(sa.Column('siret', sa.String(length=14), nullable=True))
    with op.batch_alter_table('partenaire') as batch:
        batch.add_column(sa.Column('rna', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('partenaire') as batch:
        batch.drop_column('rna')
    with op.batch_alter_table('departement') as batch:
        batch.drop_column('siret')
