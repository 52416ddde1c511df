"""each document belongs to the workspace (site) that made it: two sites sharing one registry keep their files'
records apart (document.site; a path is unique within a site, not across sites)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

def _document_0007() -> sa.Table:
    """The document table as 0007 left it, without its unnamed UNIQUE (chemin): SQLite's batch mode copies the
    table from this definition, which is how an unnamed constraint is dropped there (Alembic's batch docs)."""
    return sa.Table(
        'document', sa.MetaData(),
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('convention_id', sa.Integer(), sa.ForeignKey('convention.id', ondelete='SET NULL'), nullable=True,
                  index=True),
        sa.Column('nature', sa.String(length=20), nullable=False),
        sa.Column('format', sa.String(length=5), nullable=False),
        sa.Column('cle', sa.String(length=80), nullable=False, index=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('chemin', sa.String(length=500), nullable=False),
        sa.Column('archive', sa.Boolean(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('modele_sha256', sa.String(length=64), nullable=True),
        sa.Column('source_sha256', sa.String(length=64), nullable=True),
        sa.Column('empreinte', sa.String(length=64), nullable=True),
        sa.Column('pdfa', sa.Boolean(), nullable=False),
        sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fige', sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def upgrade() -> None:
    # Documents recorded before belong to no site yet: the first workspace that opens the registry adopts them.
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('document', schema=None, copy_from=_document_0007(),
                                  recreate='always') as batch_op:
            batch_op.add_column(sa.Column('site', sa.String(length=36), nullable=True))
            batch_op.create_unique_constraint('uq_document_site_chemin', ['site', 'chemin'])
            batch_op.create_index('ix_document_site', ['site'], unique=False)
    else:  # PostgreSQL named the unnamed constraint <table>_<column>_key
        op.drop_constraint('document_chemin_key', 'document', type_='unique')
        op.add_column('document', sa.Column('site', sa.String(length=36), nullable=True))
        op.create_unique_constraint('uq_document_site_chemin', 'document', ['site', 'chemin'])
        op.create_index('ix_document_site', 'document', ['site'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_site')
        batch_op.drop_constraint('uq_document_site_chemin', type_='unique')
        batch_op.drop_column('site')
        batch_op.create_unique_constraint('document_chemin_key', ['chemin'])
