"""the schema as the models declare it: an avenant's modifications and a convention's payment schedule are
never NULL (an empty list), and documents are indexed by key and by convention, as a new registry is

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE avenant SET modifications = '[]' WHERE modifications IS NULL")
    op.execute("UPDATE convention SET versements = '[]' WHERE versements IS NULL")
    with op.batch_alter_table('avenant') as batch_op:
        batch_op.alter_column('modifications', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('convention') as batch_op:
        batch_op.alter_column('versements', existing_type=sa.JSON(), nullable=False)
    # PostgreSQL kept them through the earlier migrations; SQLite lost them when 0008 rebuilt the table.
    present = {index['name'] for index in sa.inspect(op.get_bind()).get_indexes('document')}
    for column in ('cle', 'convention_id'):
        if f'ix_document_{column}' not in present:
            op.create_index(f'ix_document_{column}', 'document', [column])


def downgrade() -> None:
    # The indexes stay: PostgreSQL had them before this revision.
    with op.batch_alter_table('convention') as batch_op:
        batch_op.alter_column('versements', existing_type=sa.JSON(), nullable=True)
    with op.batch_alter_table('avenant') as batch_op:
        batch_op.alter_column('modifications', existing_type=sa.JSON(), nullable=True)
