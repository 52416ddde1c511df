"""long work started from the staff pages, and where it stands (seen by every server of the registry)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'travail',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('nature', sa.String(length=20), nullable=False),
        sa.Column('parametres', sa.JSON(), nullable=False),
        sa.Column('titre', sa.String(length=300), nullable=False),
        sa.Column('auteur', sa.String(length=300), nullable=False),
        sa.Column('etat', sa.String(length=20), nullable=False),
        sa.Column('phase', sa.String(length=20), nullable=False),
        sa.Column('fait', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('lignes', sa.JSON(), nullable=False),
        sa.Column('debut', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fin', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_travail_debut', 'travail', ['debut'])


def downgrade() -> None:
    op.drop_index('ix_travail_debut', 'travail')
    op.drop_table('travail')
