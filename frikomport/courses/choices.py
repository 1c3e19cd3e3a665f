"""The course list's filter choices: organisers, categories and service areas that have
upcoming courses the viewer may see.

Two things keep them cheap at any catalogue size:

- They are computed from the small tables, not from the courses: one query per list
  (organisations, categories, service areas) keeps each row that has at least one
  upcoming visible course, an ``EXISTS`` probe that stops at the first such course
  (indexes ``ix_course_organisation_state_starts_at``, ``ix_course_category_state``,
  ``ix_course_service_area_state``). The cost grows with the vocabulary, not the courses.
- The result is cached per app (that is, per process) for :data:`CHOICES_TTL` seconds,
  keyed by who is looking and by the catalogue version, ``max(course.updated_at)``: one
  index lookup per request. Publishing, editing, cancelling or finishing a course bumps
  the version, so an organiser sees their new category at once. What the version does
  not see (a renamed category, a course passing its end, a deleted draft) shows within
  the TTL; a stale choice at worst lists nothing.

"Who is looking" is the visibility clause itself, compiled to SQL with its values: two
viewers share cached choices exactly when they may see the same courses, and the key
cannot drift from the rules in :mod:`frikomport.permissions`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from frikomport.courses.models import Category, Course, ServiceArea
from frikomport.courses.queries import upcoming_clause
from frikomport.permissions import visible_courses_clause
from frikomport.tenancy.models import Organisation

CHOICES_TTL = 60.0     # seconds
CACHE_SIZE = 512       # viewer groups kept (members of different organisation sets)
_EXTENSION = "frikomport.filter_choices"


@dataclass(frozen=True)
class _Cached:
    version: datetime | None
    expires: float
    choices: dict[str, list]


def catalogue_version(session: Session) -> datetime | None:
    """The newest change to any course (``ix_course_updated_at``: one index lookup)."""
    return session.scalar(select(func.max(Course.updated_at)))


def viewer_key(user) -> str:
    """The viewer's visibility rule as SQL text with its values (the cache key)."""
    clause = visible_courses_clause(user)
    return str(clause.compile(compile_kwargs={"literal_binds": True}))


def filter_choices(session: Session, user) -> dict[str, list]:
    """Organisations (slug, name), category and service-area names for the filters."""
    cache: dict[str, _Cached] = current_app.extensions.setdefault(_EXTENSION, {})
    key, version, now = viewer_key(user), catalogue_version(session), time.monotonic()
    cached = cache.get(key)
    if cached is not None and cached.version == version and cached.expires > now:
        return cached.choices
    choices = compute_choices(session, user)
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = _Cached(version=version, expires=now + CHOICES_TTL, choices=choices)
    return choices


def clear_cache(app) -> None:
    """Forget every cached choice (tests, and after bulk changes such as imports)."""
    app.extensions.pop(_EXTENSION, None)


def compute_choices(session: Session, user) -> dict[str, list]:
    """Three queries over the small tables, each row kept if an upcoming course uses it."""
    def used(link: ColumnElement[bool]) -> ColumnElement[bool]:
        return select(Course.id).where(link, upcoming_clause(user)).exists()

    def names(model, course_column) -> list[str]:
        query = (select(model.name).where(used(course_column == model.id))
                 .distinct().order_by(model.name))
        return list(session.scalars(query))

    organisations = session.execute(
        select(Organisation.slug, Organisation.name)
        .where(used(Course.organisation_id == Organisation.id)).order_by(Organisation.name))
    return {
        "organisations": [tuple(row) for row in organisations],
        "categories": names(Category, Course.category_id),
        "service_areas": names(ServiceArea, Course.service_area_id),
    }
