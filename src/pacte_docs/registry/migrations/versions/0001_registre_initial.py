"""registre initial

Revision ID: 0001
Revises: (aucune)
Create Date: 2026-11-22 13:46:21.356291
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('departement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('nom', sa.String(length=200), nullable=False),
    sa.Column('direction', sa.String(length=300), nullable=True),
    sa.Column('adresse', sa.Text(), nullable=True),
    sa.Column('ville', sa.String(length=100), nullable=True),
    sa.Column('president_civilite', sa.String(length=10), nullable=True),
    sa.Column('president_nom', sa.String(length=200), nullable=True),
    sa.Column('president_qualite', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('partenaire',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('nom', sa.String(length=300), nullable=False),
    sa.Column('commune', sa.String(length=200), nullable=True),
    sa.Column('code_insee', sa.String(length=5), nullable=True),
    sa.Column('siret', sa.String(length=14), nullable=True),
    sa.Column('adresse', sa.Text(), nullable=True),
    sa.Column('representant_civilite', sa.String(length=10), nullable=True),
    sa.Column('representant_nom', sa.String(length=200), nullable=True),
    sa.Column('representant_qualite', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('convention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('departement_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('modele', sa.String(length=100), nullable=True),
    sa.Column('objet', sa.Text(), nullable=False),
    sa.Column('deliberation_instance', sa.String(length=200), nullable=True),
    sa.Column('deliberation_numero', sa.String(length=50), nullable=True),
    sa.Column('deliberation_date', sa.Date(), nullable=True),
    sa.Column('date_signature', sa.Date(), nullable=True),
    sa.Column('date_effet', sa.Date(), nullable=False),
    sa.Column('duree_mois', sa.Integer(), nullable=False),
    sa.Column('renouvellement', sa.String(length=10), nullable=False),
    sa.Column('renouvellements_max', sa.Integer(), nullable=False),
    sa.Column('preavis_mois', sa.Integer(), nullable=False),
    sa.Column('responsable_nom', sa.String(length=200), nullable=True),
    sa.Column('responsable_email', sa.String(length=254), nullable=False),
    sa.Column('territoire', sa.String(length=300), nullable=True),
    sa.Column('montant', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('taux_fse', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('engagements_departement', sa.JSON(), nullable=False),
    sa.Column('engagements_partenaire', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('objectifs', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['departement_id'], ['departement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_departement_id'), ['departement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_type'), ['type'], unique=False)

    op.create_table('convention_partenaire',
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('partenaire_id', sa.Integer(), nullable=False),
    sa.Column('rang', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partenaire_id'], ['partenaire.id'], ),
    sa.PrimaryKeyConstraint('convention_id', 'partenaire_id')
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=True),
    sa.Column('nature', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=5), nullable=False),
    sa.Column('cle', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('chemin', sa.String(length=500), nullable=False),
    sa.Column('archive', sa.Boolean(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('modele_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('empreinte', sa.String(length=64), nullable=True),
    sa.Column('pdfa', sa.Boolean(), nullable=False),
    sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chemin')
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_cle'), ['cle'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_convention_id'), ['convention_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_convention_id'))
        batch_op.drop_index(batch_op.f('ix_document_cle'))

    op.drop_table('document')
    op.drop_table('convention_partenaire')
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_type'))
        batch_op.drop_index(batch_op.f('ix_convention_departement_id'))

    op.drop_table('convention')
    op.drop_table('partenaire')
    op.drop_table('departement')
