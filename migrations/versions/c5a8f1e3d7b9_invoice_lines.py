"""invoice lines (issue 13): what a host organisation has invoiced, one line per
registration (a partial unique index), with copies of participant, course and buyer

Revision ID: c5a8f1e3d7b9
Revises: b7d2e9f4a1c6
Create Date: 2026-11-30 12:55:00.000000

"""
import sqlalchemy as sa
from alembic import op

from frikomport.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'c5a8f1e3d7b9'
down_revision = 'b7d2e9f4a1c6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invoice_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=True),
        sa.Column('buyer_organisation_id', sa.Integer(), nullable=True),
        sa.Column('buyer_name', sa.String(length=200), nullable=False),
        sa.Column('participant_name', sa.String(length=200), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('course_title', sa.String(length=200), nullable=False),
        sa.Column('course_starts_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('reference', sa.String(length=100), nullable=False),
        sa.Column('amount_ore', sa.Integer(), nullable=False),
        sa.Column('invoice_number', sa.String(length=40), nullable=False),
        sa.Column('invoiced_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('invoiced_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['buyer_organisation_id'], ['organisation.id'],
                                name=op.f('fk_invoice_line_buyer_organisation_id_organisation'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['course_id'], ['course.id'],
                                name=op.f('fk_invoice_line_course_id_course'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['invoiced_by_id'], ['user_account.id'],
                                name=op.f('fk_invoice_line_invoiced_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_invoice_line_organisation_id_organisation'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['registration_id'], ['registration.id'],
                                name=op.f('fk_invoice_line_registration_id_registration'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line')),
    )
    op.create_index('uq_invoice_line_registration', 'invoice_line', ['registration_id'],
                    unique=True, sqlite_where=sa.text('registration_id IS NOT NULL'),
                    postgresql_where=sa.text('registration_id IS NOT NULL'))
    op.create_index('ix_invoice_line_organisation_invoiced_at', 'invoice_line',
                    ['organisation_id', 'invoiced_at'])
    op.create_index(op.f('ix_invoice_line_buyer_organisation_id'), 'invoice_line',
                    ['buyer_organisation_id'])


def downgrade():
    op.drop_table('invoice_line')
