"""the documents partners owe: received, or reminded (pacte pieces); the alert ledger keys a document late

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _alerte_envoi(seuil: int) -> sa.Table:
    """The alert ledger as 0002 made it, its threshold *seuil* characters long: SQLite's batch mode copies the
    table from this definition rather than reflecting it (and the convention table it refers to)."""
    return sa.Table(
        'alerte_envoi', sa.MetaData(),
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('convention_id', sa.Integer(), sa.ForeignKey('convention.id', ondelete='CASCADE'), nullable=False),
        sa.Column('periode', sa.Integer(), nullable=False),
        sa.Column('seuil', sa.String(length=seuil), nullable=False),
        sa.Column('etat', sa.String(length=10), nullable=False),
        sa.Column('destinataire', sa.String(length=254), nullable=False),
        sa.Column('message_id', sa.String(length=200), nullable=False),
        sa.Column('proprietaire', sa.String(length=200), nullable=False),
        sa.Column('reserve_le', sa.DateTime(timezone=True), nullable=False),
        sa.Column('envoye_le', sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('convention_id', 'periode', 'seuil'),
    )


def upgrade() -> None:
    op.create_table(
        'piece',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('convention_id', sa.Integer(), nullable=False),
        sa.Column('cle', sa.String(length=40), nullable=False),
        sa.Column('exercice', sa.Integer(), nullable=False),
        sa.Column('recue_le', sa.Date(), nullable=True),
        sa.Column('document', sa.String(length=500), nullable=True),
        sa.Column('relancee_le', sa.Date(), nullable=True),
        sa.Column('relances', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('convention_id', 'cle', 'exercice'),
    )
    with op.batch_alter_table('piece') as batch:
        batch.create_index(batch.f('ix_piece_convention_id'), ['convention_id'], unique=False)
    with op.batch_alter_table('alerte_envoi', copy_from=_alerte_envoi(10)) as batch:
        batch.alter_column('seuil', existing_type=sa.String(length=10), type_=sa.String(length=40),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('alerte_envoi', copy_from=_alerte_envoi(40)) as batch:
        batch.alter_column('seuil', existing_type=sa.String(length=40), type_=sa.String(length=10),
                           existing_nullable=False)
    with op.batch_alter_table('piece') as batch:
        batch.drop_index(batch.f('ix_piece_convention_id'))
    op.drop_table('piece')
