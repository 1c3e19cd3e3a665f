"""languages: organisation.language (its written form), course.content_language, and
user_account.locale may be empty (no saved choice: follow the organisation)

Revision ID: d4e7a1c9b2f0
Revises: c3a91e5d7f20
Create Date: 2026-11-30 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e7a1c9b2f0'
down_revision = 'c3a91e5d7f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=False,
                                      server_default='nb'))
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_language', sa.String(length=5), nullable=False,
                                      server_default='nb'))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('locale', existing_type=sa.String(length=5), nullable=True)


def downgrade():
    op.execute(sa.text("UPDATE user_account SET locale = 'nb' WHERE locale IS NULL"))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('locale', existing_type=sa.String(length=5), nullable=False)
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('content_language')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('language')
