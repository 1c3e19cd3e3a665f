"""fees (issue 13): a course has a fee for the host's employees, for other organisations'
employees and for guests (øre), a free-cancellation date and whether no-shows are charged;
a registration keeps the fee fixed at confirmation, its kind, the person's own reference
and whether a late cancellation is charged; an organisation has its invoice details.

The old single price (whole kroner) becomes all three fees.

Revision ID: b7d2e9f4a1c6
Revises: f2c8e4a6b1d3
Create Date: 2026-11-30 12:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

from frikomport.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'b7d2e9f4a1c6'
down_revision = 'f2c8e4a6b1d3'
branch_labels = None
depends_on = None

FEES = ('fee_host_ore', 'fee_region_ore', 'fee_guest_ore')
ORGANISATION_TEXT = {'org_number': 9, 'invoice_email': 254, 'buyer_reference': 100,
                     'invoice_street': 200, 'invoice_postcode': 10, 'invoice_city': 100}


def upgrade():
    with op.batch_alter_table('course') as batch_op:
        for name in FEES:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                          server_default='0'))
        batch_op.add_column(sa.Column('free_cancellation_until', UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('charge_no_shows', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.execute("UPDATE course SET fee_host_ore = price_nok * 100, "
               "fee_region_ore = price_nok * 100, fee_guest_ore = price_nok * 100")
    with op.batch_alter_table('course') as batch_op:
        batch_op.drop_constraint(op.f('ck_course_price_not_negative'), type_='check')
        batch_op.drop_column('price_nok')
        batch_op.create_check_constraint(
            'fees_not_negative',
            'fee_host_ore >= 0 AND fee_region_ore >= 0 AND fee_guest_ore >= 0')

    with op.batch_alter_table('registration') as batch_op:
        batch_op.add_column(sa.Column('own_reference', sa.String(length=100), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('fee_ore', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fee_kind', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('charged_cancellation', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table('organisation') as batch_op:
        for name, length in ORGANISATION_TEXT.items():
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False,
                                          server_default=''))
        batch_op.add_column(sa.Column('receives_ehf', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('vat_registered', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('organisation') as batch_op:
        for name in ('vat_registered', 'receives_ehf', *ORGANISATION_TEXT):
            batch_op.drop_column(name)
    with op.batch_alter_table('registration') as batch_op:
        for name in ('charged_cancellation', 'fee_kind', 'fee_ore', 'own_reference'):
            batch_op.drop_column(name)
    with op.batch_alter_table('course') as batch_op:
        batch_op.add_column(sa.Column('price_nok', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.execute("UPDATE course SET price_nok = fee_host_ore / 100")
    with op.batch_alter_table('course') as batch_op:
        batch_op.drop_constraint(op.f('ck_course_fees_not_negative'), type_='check')
        batch_op.create_check_constraint('price_not_negative', 'price_nok >= 0')
        for name in ('charge_no_shows', 'free_cancellation_until', *FEES):
            batch_op.drop_column(name)
