"""Serialise decisions about a course's seats.

On PostgreSQL the course row is locked with ``SELECT … FOR UPDATE`` until the transaction
ends: concurrent registrations for the same course wait for each other and then read the
committed seat counters. SQLite has no row locks, so a no-op UPDATE takes the database
write lock instead. Either way the counters read after :func:`lock_course` cannot change
before commit, and a CHECK constraint (confirmed_count <= capacity) backs this up.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from frikomport.courses.models import Course
from frikomport.errors import NotFoundError


def lock_course(session: Session, course_id: int) -> Course:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Course).where(Course.id == course_id)
                        .values(updated_at=Course.updated_at))
    course = session.scalar(
        select(Course).where(Course.id == course_id).with_for_update()
        .execution_options(populate_existing=True))
    if course is None:
        raise NotFoundError()
    return course
