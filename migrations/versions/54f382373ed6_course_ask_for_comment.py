"""course: ask_for_comment (organisers can turn the registration comment field off)

Revision ID: 54f382373ed6
Revises: b18d0ad1a7cf
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '54f382373ed6'
down_revision = 'b18d0ad1a7cf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ask_for_comment', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('ask_for_comment')
