"""the visa circuit of a draft convention: submissions and visas, each on its version

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visa',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('convention_id', sa.Integer(), nullable=False),
        sa.Column('nature', sa.String(length=12), nullable=False),
        sa.Column('tour', sa.Integer(), nullable=False),
        sa.Column('etape', sa.Integer(), nullable=True),
        sa.Column('attendu', sa.String(length=254), nullable=True),
        sa.Column('avis', sa.String(length=12), nullable=True),
        sa.Column('commentaire', sa.Text(), nullable=True),
        sa.Column('par', sa.String(length=300), nullable=False),
        sa.Column('quand', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('visa') as batch:
        batch.create_index(batch.f('ix_visa_convention_id'), ['convention_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visa') as batch:
        batch.drop_index(batch.f('ix_visa_convention_id'))
    op.drop_table('visa')
