"""feed window index: an organisation's calendar feeds read only the courses of the
feed window, not its whole history (issue 12)

``ix_course_organisation_ends_at`` (organisation_id, ends_at): the organisation and
category feeds select ``organisation_id = ? AND ends_at >= <window start> AND
starts_at < <window end>`` (frikomport/courses/feed_window.py). Through
``ix_course_organisation_id`` (or (organisation_id, state, starts_at)) the database
visits every course the organisation ever held and filters by ``ends_at``; through this
index it visits the window and the far future only, so the feed's ETag aggregate and
its load cost the same after ten years as after one.

Revision ID: a6f1d3b8c5e2
Revises: e7b3c5a1d9f4
Create Date: 2026-11-30 09:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a6f1d3b8c5e2'
down_revision = 'e7b3c5a1d9f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_course_organisation_ends_at', 'course',
                    ['organisation_id', 'ends_at'], unique=False)


def downgrade():
    op.drop_index('ix_course_organisation_ends_at', table_name='course')
