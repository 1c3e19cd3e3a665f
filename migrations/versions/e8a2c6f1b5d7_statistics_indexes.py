"""statistics indexes: the statistics count registrations from an index alone (issue 13)

- ``ix_registration_statistics`` (course_id, state, employer_organisation_id, fee_ore,
  charged_cancellation, queued_at) replaces ``ix_registration_course_state``, its
  prefix: per course it holds every column the statistics count, so SQLite and
  PostgreSQL answer from the index without reading the rows;
- ``ix_registration_employer_statistics`` is the same from the employer's side (what an
  organisation's own people took part in, at every host);
- ``ix_registration_updated_at``: the latest change to a registration, part of the key
  the statistics keep a computed report under, is one index lookup.

Revision ID: e8a2c6f1b5d7
Revises: d1f5b8c2e7a4
Create Date: 2026-11-30 15:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e8a2c6f1b5d7'
down_revision = 'd1f5b8c2e7a4'
branch_labels = None
depends_on = None

COUNTED = ['fee_ore', 'charged_cancellation', 'queued_at']


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_course_state')
        batch_op.create_index('ix_registration_statistics',
                              ['course_id', 'state', 'employer_organisation_id', *COUNTED])
        batch_op.create_index('ix_registration_employer_statistics',
                              ['employer_organisation_id', 'course_id', 'state', *COUNTED])
        batch_op.create_index('ix_registration_updated_at', ['updated_at'])


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_updated_at')
        batch_op.drop_index('ix_registration_employer_statistics')
        batch_op.drop_index('ix_registration_statistics')
        batch_op.create_index('ix_registration_course_state', ['course_id', 'state'])
