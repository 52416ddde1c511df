"""who signs by delegation: the Département's signatory and arrêté, a partner's délégant and act

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departement') as batch:
        batch.add_column(sa.Column('signataire_civilite', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('signataire_nom', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('signataire_qualite', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('delegation_numero', sa.String(length=60), nullable=True))
        batch.add_column(sa.Column('delegation_date', sa.Date(), nullable=True))
    with op.batch_alter_table('partenaire') as batch:
        batch.add_column(sa.Column('delegation_delegant', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('delegation_numero', sa.String(length=60), nullable=True))
        batch.add_column(sa.Column('delegation_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('partenaire') as batch:
        for name in ('delegation_date', 'delegation_numero', 'delegation_delegant'):
            batch.drop_column(name)
    with op.batch_alter_table('departement') as batch:
        for name in ('delegation_date', 'delegation_numero', 'signataire_qualite', 'signataire_nom',
                     'signataire_civilite'):
            batch.drop_column(name)
