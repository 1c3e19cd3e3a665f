"""catalogue indexes: the course list, front page, organisation page and filter choices
read through an index at any catalogue size (issue 12)

- ``ix_course_state_starts_at`` (state, starts_at, id): published courses in list order,
  so ``ORDER BY starts_at, id LIMIT n`` stops after n rows instead of sorting them all;
- ``ix_course_organisation_state_starts_at``: the same for one organisation's page and
  the organisation filter (and its filter-choice EXISTS probe);
- ``ix_course_category_state`` / ``ix_course_service_area_state``: the filter choices'
  EXISTS probe per category / service area skips finished courses;
- ``ix_course_updated_at``: ``max(updated_at)``, the catalogue version that keys the
  filter-choice cache, is one index lookup.

The single-column indexes on state, organisation_id, category_id and service_area_id
go: each is the prefix of a new one (which serves the same lookups and the foreign
keys), and without statistics SQLite preferred ``ix_course_state`` and then sorted every
published course.

Plain (not partial) indexes on purpose: the queries compare ``state`` with a bound
parameter, and neither SQLite nor a PostgreSQL generic plan can prove that ``state = ?``
implies a partial index's ``WHERE state = 'published'``, so a partial index could be
silently skipped. Sessions already have ``ix_course_session_starts_at`` (the calendar).

Revision ID: e7b3c5a1d9f4
Revises: d4e7a1c9b2f0
Create Date: 2026-11-30 09:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e7b3c5a1d9f4'
down_revision = 'd4e7a1c9b2f0'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_course_state_starts_at': ['state', 'starts_at', 'id'],
    'ix_course_organisation_state_starts_at': ['organisation_id', 'state', 'starts_at'],
    'ix_course_category_state': ['category_id', 'state'],
    'ix_course_service_area_state': ['service_area_id', 'state'],
    'ix_course_updated_at': ['updated_at'],
}


REPLACED = {
    'ix_course_state': ['state'],
    'ix_course_organisation_id': ['organisation_id'],
    'ix_course_category_id': ['category_id'],
    'ix_course_service_area_id': ['service_area_id'],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, 'course', columns, unique=False)
    for name in REPLACED:
        op.drop_index(name, table_name='course')


def downgrade():
    for name, columns in REPLACED.items():
        op.create_index(name, 'course', columns, unique=False)
    for name in INDEXES:
        op.drop_index(name, table_name='course')
