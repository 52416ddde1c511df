"""cycle de vie et alertes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:08:13.502222
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerte_envoi',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('periode', sa.Integer(), nullable=False),
    sa.Column('seuil', sa.String(length=10), nullable=False),
    sa.Column('etat', sa.String(length=10), nullable=False),
    sa.Column('destinataire', sa.String(length=254), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('proprietaire', sa.String(length=200), nullable=False),
    sa.Column('reserve_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('envoye_le', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('convention_id', 'periode', 'seuil')
    )
    op.create_table('avenant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('objet', sa.Text(), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('periode', sa.Integer(), nullable=False),
    sa.Column('nouvelle_fin', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('convention_id', 'numero')
    )
    op.create_table('evenement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('quand', sa.DateTime(timezone=True), nullable=False),
    sa.Column('nature', sa.String(length=30), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('document', sa.String(length=500), nullable=True),
    sa.Column('document_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evenement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evenement_convention_id'), ['convention_id'], unique=False)

    op.create_table('renouvellement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('deliberation_numero', sa.String(length=50), nullable=True),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('convention_id', 'numero')
    )
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_denonciation', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('motif_denonciation', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.drop_column('motif_denonciation')
        batch_op.drop_column('date_denonciation')

    op.drop_table('renouvellement')
    with op.batch_alter_table('evenement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evenement_convention_id'))

    op.drop_table('evenement')
    op.drop_table('avenant')
    op.drop_table('alerte_envoi')
