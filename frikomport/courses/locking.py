"""Serialise decisions about a course's seats.

On PostgreSQL the course row is locked with ``SELECT … FOR UPDATE`` until the transaction
ends: concurrent registrations for the same course wait for each other and then read the
committed seat counters. SQLite has no row locks, so a no-op UPDATE takes the database
write lock instead. Either way the counters read after :func:`lock_course` cannot change
before commit, and a CHECK constraint (confirmed_count <= capacity) backs this up.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from frikomport.courses.models import Course
from frikomport.db import lock_row
from frikomport.errors import NotFoundError


def lock_course(session: Session, course_id: int) -> Course:
    course = lock_row(session, Course, course_id)
    if course is None:
        raise NotFoundError()
    return course
