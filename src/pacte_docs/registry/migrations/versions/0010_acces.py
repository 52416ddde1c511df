"""personal links to the directors' pages and calendars (pacte acces, pacte serveur): tokens kept hashed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'acces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('prefixe', sa.String(length=12), nullable=False),
        sa.Column('empreinte', sa.String(length=64), nullable=False),
        sa.Column('graine', sa.String(length=64), nullable=False),
        sa.Column('site', sa.String(length=36), nullable=True),
        sa.Column('responsable', sa.String(length=254), nullable=True),
        sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
        sa.Column('origine', sa.String(length=20), nullable=False),
        sa.Column('revoque_le', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('empreinte'),
    )
    op.create_index('ix_acces_prefixe', 'acces', ['prefixe'])
    op.create_index('ix_acces_responsable', 'acces', ['responsable'])


def downgrade() -> None:
    op.drop_index('ix_acces_responsable', table_name='acces')
    op.drop_index('ix_acces_prefixe', table_name='acces')
    op.drop_table('acces')
