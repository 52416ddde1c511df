"""staff who sign in to the staff pages, and who caused each journal event

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('nom', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('mot_de_passe', sa.String(length=200), nullable=True),
        sa.Column('actif', sa.Boolean(), nullable=False),
        sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
        sa.Column('echecs', sa.Integer(), nullable=False),
        sa.Column('dernier_echec', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sessions_depuis', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    op.add_column('evenement', sa.Column('auteur', sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE evenement DROP COLUMN auteur')
    op.drop_table('agent')
