"""credit lines (issue 13): invoice_line.credited_line_id points a credit line at the
invoiced line it takes back (at most once); a registration keeps one invoice line and may
get one credit line

Revision ID: d1f5b8c2e7a4
Revises: c5a8f1e3d7b9
Create Date: 2026-11-30 15:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd1f5b8c2e7a4'
down_revision = 'c5a8f1e3d7b9'
branch_labels = None
depends_on = None

INVOICED = 'registration_id IS NOT NULL AND credited_line_id IS NULL'
ANY_LINE = 'registration_id IS NOT NULL'


def upgrade():
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credited_line_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_invoice_line_credited_line_id_invoice_line'), 'invoice_line',
            ['credited_line_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_index('uq_invoice_line_registration')
        batch_op.create_index('uq_invoice_line_registration', ['registration_id'],
                              unique=True, sqlite_where=sa.text(INVOICED),
                              postgresql_where=sa.text(INVOICED))
        batch_op.create_index('uq_invoice_line_credited_line_id', ['credited_line_id'],
                              unique=True)


def downgrade():
    # Credit lines cannot be kept: the old index allows one line per registration.
    op.execute('DELETE FROM invoice_line WHERE credited_line_id IS NOT NULL')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index('uq_invoice_line_credited_line_id')
        batch_op.drop_index('uq_invoice_line_registration')
        batch_op.create_index('uq_invoice_line_registration', ['registration_id'],
                              unique=True, sqlite_where=sa.text(ANY_LINE),
                              postgresql_where=sa.text(ANY_LINE))
        batch_op.drop_constraint(batch_op.f('fk_invoice_line_credited_line_id_invoice_line'),
                                 type_='foreignkey')
        batch_op.drop_column('credited_line_id')
