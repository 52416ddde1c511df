"""an avenant gives the new wording of each article it changes (avenant.modifications); a subsidy's
payment schedule and budget line (convention.versements, convention.imputation); the partner's own
délibération (convention.deliberation_partenaire_*); the département's context and commentaries with the yearly
figures (realisation.foyers_rsa, realisation.commentaire)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 23:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Avenants recorded before keep their text: no article change was recorded for them.
    with op.batch_alter_table('avenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('modifications', sa.JSON(), nullable=True))
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('versements', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('imputation', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('deliberation_partenaire_instance', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('deliberation_partenaire_numero', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('deliberation_partenaire_date', sa.Date(), nullable=True))


    with op.batch_alter_table('realisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('foyers_rsa', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('commentaire', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('realisation', schema=None) as batch_op:
        batch_op.drop_column('commentaire')
        batch_op.drop_column('foyers_rsa')
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.drop_column('deliberation_partenaire_date')
        batch_op.drop_column('deliberation_partenaire_numero')
        batch_op.drop_column('deliberation_partenaire_instance')
        batch_op.drop_column('imputation')
        batch_op.drop_column('versements')
    with op.batch_alter_table('avenant', schema=None) as batch_op:
        batch_op.drop_column('modifications')
