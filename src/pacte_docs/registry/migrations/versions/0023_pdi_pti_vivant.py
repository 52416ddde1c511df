"""the living PDI/PTI: its versions by délibération, the référent of each axe and fiche, the fiches' states

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 18:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pacte_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pacte_id', sa.Integer(), nullable=False),
        sa.Column('rang', sa.Integer(), nullable=False),
        sa.Column('instance', sa.String(length=200), nullable=True),
        sa.Column('numero', sa.String(length=60), nullable=True),
        sa.Column('date', sa.Date(), nullable=True),
        sa.Column('objet', sa.Text(), nullable=True),
        sa.Column('contenu', sa.JSON(), nullable=False),
        sa.Column('changements', sa.JSON(), nullable=False),
        sa.Column('enregistre_le', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['pacte_id'], ['pacte.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('pacte_id', 'rang'),
    )
    op.create_index('ix_pacte_revision_pacte_id', 'pacte_revision', ['pacte_id'])
    op.create_table(
        'suivi_fiche',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pacte_id', sa.Integer(), nullable=False),
        sa.Column('cible', sa.String(length=20), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('etat', sa.String(length=20), nullable=False),
        sa.Column('commentaire', sa.Text(), nullable=True),
        sa.Column('referent', sa.String(length=300), nullable=True),
        sa.Column('par', sa.String(length=300), nullable=False),
        sa.Column('enregistre_le', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['pacte_id'], ['pacte.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_suivi_fiche_pacte_cible', 'suivi_fiche', ['pacte_id', 'cible', 'date'])
    op.add_column('axe', sa.Column('referent', sa.String(length=300), nullable=True))
    op.add_column('fiche_action', sa.Column('referent', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fiche_action') as batch:
        batch.drop_column('referent')
    with op.batch_alter_table('axe') as batch:
        batch.drop_column('referent')
    op.drop_index('ix_suivi_fiche_pacte_cible', 'suivi_fiche')
    op.drop_table('suivi_fiche')
    op.drop_index('ix_pacte_revision_pacte_id', 'pacte_revision')
    op.drop_table('pacte_revision')
