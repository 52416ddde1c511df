"""PDI/PTI: pacte, co-signatories, axes and fiches-actions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:18:03.940200
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pacte',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('departement_id', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=300), nullable=False),
    sa.Column('periode_debut', sa.Integer(), nullable=False),
    sa.Column('periode_fin', sa.Integer(), nullable=False),
    sa.Column('adoption_instance', sa.String(length=200), nullable=True),
    sa.Column('adoption_date', sa.Date(), nullable=True),
    sa.Column('contexte', sa.Text(), nullable=True),
    sa.Column('diagnostic', sa.JSON(), nullable=False),
    sa.Column('methode', sa.Text(), nullable=True),
    sa.Column('gouvernance', sa.JSON(), nullable=False),
    sa.Column('engagements', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['departement_id'], ['departement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('pacte', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pacte_departement_id'), ['departement_id'], unique=False)

    op.create_table('axe',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pacte_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('intitule', sa.String(length=300), nullable=False),
    sa.Column('nature', sa.String(length=20), nullable=False),
    sa.Column('objectifs', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['pacte_id'], ['pacte.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('pacte_id', 'numero')
    )
    op.create_table('pacte_cosignataire',
    sa.Column('pacte_id', sa.Integer(), nullable=False),
    sa.Column('partenaire_id', sa.Integer(), nullable=False),
    sa.Column('rang', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pacte_id'], ['pacte.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partenaire_id'], ['partenaire.id'], ),
    sa.PrimaryKeyConstraint('pacte_id', 'partenaire_id')
    )
    op.create_table('fiche_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('axe_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.String(length=10), nullable=False),
    sa.Column('rang', sa.Integer(), nullable=False),
    sa.Column('intitule', sa.String(length=300), nullable=False),
    sa.Column('contexte', sa.Text(), nullable=True),
    sa.Column('objectifs', sa.JSON(), nullable=False),
    sa.Column('public', sa.Text(), nullable=True),
    sa.Column('pilote', sa.String(length=300), nullable=True),
    sa.Column('partenaires', sa.JSON(), nullable=False),
    sa.Column('modalites', sa.Text(), nullable=True),
    sa.Column('calendrier', sa.Text(), nullable=True),
    sa.Column('indicateurs', sa.JSON(), nullable=False),
    sa.Column('budget', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('financeurs', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['axe_id'], ['axe.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('axe_id', 'numero')
    )


def downgrade() -> None:
    op.drop_table('fiche_action')
    op.drop_table('pacte_cosignataire')
    op.drop_table('axe')
    with op.batch_alter_table('pacte', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pacte_departement_id'))

    op.drop_table('pacte')
