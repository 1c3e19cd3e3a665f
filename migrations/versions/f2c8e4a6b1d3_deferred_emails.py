"""deferred e-mails: an outbox message may name a renderer and its arguments, so the
sender writes it instead of the request that queued it (issue 12: the registration rush
no longer renders e-mails while it holds the course's lock)

Revision ID: f2c8e4a6b1d3
Revises: a6f1d3b8c5e2
Create Date: 2026-11-30 11:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2c8e4a6b1d3'
down_revision = 'a6f1d3b8c5e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message') as batch_op:
        batch_op.add_column(sa.Column('renderer', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('render_arguments', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message') as batch_op:
        batch_op.drop_column('render_arguments')
        batch_op.drop_column('renderer')
