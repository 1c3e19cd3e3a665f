"""user: disabled_at (disabled accounts are deleted after RETENTION_DISABLED_MONTHS)

Revision ID: c3a91e5d7f20
Revises: 54f382373ed6
Create Date: 2026-11-30 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import frikomport.db


# revision identifiers, used by Alembic.
revision = 'c3a91e5d7f20'
down_revision = '54f382373ed6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', frikomport.db.UTCDateTime(timezone=True),
                                      nullable=True))
    # Accounts disabled before this column existed count from now: none is deleted at once.
    op.execute(sa.text("UPDATE user_account SET disabled_at = CURRENT_TIMESTAMP "
                       "WHERE NOT is_enabled"))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
