"""The two SQL queries behind every statistics table.

Everything is counted in the database, grouped to one row per course × employer ×
registration state, and rolled up in Python to months, categories, service areas,
courses and employers (:mod:`.report`). Grouping per course keeps the row count at the
number of courses, not of registrations, and lets months follow Oslo time rather than
the database's. The covering index ``ix_registration_statistics`` means the
registrations are read from the index alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from frikomport.billing.services import charged_clause
from frikomport.courses.models import (
    Category,
    Course,
    CourseSession,
    CourseState,
    ServiceArea,
    Visibility,
)
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.tenancy.models import Organisation

# Courses that took place or will: drafts have no participants, and a cancelled course's
# registrations were cancelled by the organiser, not by the people.
COUNTED_COURSE_STATES = (CourseState.PUBLISHED, CourseState.FINISHED)


@dataclass(frozen=True)
class Scope:
    """Whose figures: a host's courses, an employer's people, or the whole region."""

    kind: str  # "host", "employer" or "region"
    organisation_id: int | None = None


@dataclass(frozen=True)
class CountRow:
    course_id: int
    employer_id: int | None
    state: str
    registrations: int
    fees_ore: int
    never_seated: int


@dataclass(frozen=True)
class CourseFacts:
    id: int
    title: str
    host_id: int
    starts_at: datetime
    category: str | None
    service_area: str | None
    internal: bool  # seen only by the host's own people (see permissions)
    hours: float


class hours_between(FunctionElement):
    """Hours from one timestamp to another, in the database's own arithmetic."""

    type = Float()
    inherit_cache = True


@compiles(hours_between, "postgresql")
def _hours_pg(element, compiler, **kw):
    start, end = element.clauses
    return (f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
            f"{compiler.process(start, **kw)})) / 3600.0)")


@compiles(hours_between)
def _hours_sqlite(element, compiler, **kw):
    start, end = element.clauses
    return (f"((julianday({compiler.process(end, **kw)}) - "
            f"julianday({compiler.process(start, **kw)})) * 24.0)")


def _period(starts: datetime, ends: datetime) -> ColumnElement[bool]:
    return (Course.starts_at >= starts) & (Course.starts_at < ends) \
        & Course.state.in_(COUNTED_COURSE_STATES)


def _scoped(statement, scope: Scope):
    if scope.kind == "host":
        return statement.where(Course.organisation_id == scope.organisation_id)
    if scope.kind == "employer":
        return statement.where(Registration.employer_organisation_id == scope.organisation_id)
    return statement


def counts(session: Session, scope: Scope, starts: datetime, ends: datetime) -> list[CountRow]:
    """Registrations of the courses starting in the period, per course, employer, state."""
    seated_never = (Registration.queued_at.is_not(None) & Registration.fee_ore.is_(None))
    statement = _scoped(
        select(Registration.course_id, Registration.employer_organisation_id,
               Registration.state, func.count(),
               func.sum(case((charged_clause(), Registration.fee_ore), else_=0)),
               func.sum(case((seated_never, 1), else_=0)))
        .join(Course, Course.id == Registration.course_id)
        .where(_period(starts, ends), Registration.state != RegistrationState.PENDING)
        .group_by(Registration.course_id, Registration.employer_organisation_id,
                  Registration.state), scope)
    return [CountRow(course, employer, str(state), int(n), int(fees or 0), int(never or 0))
            for course, employer, state, n, fees, never in session.execute(statement)]


def courses(session: Session, scope: Scope, starts: datetime,
            ends: datetime) -> dict[int, CourseFacts]:
    """The counted courses of the period (for an employer: those its people took part in)
    with their category, service area and hours (the sum of the sessions)."""
    hours = (select(func.coalesce(func.sum(hours_between(CourseSession.starts_at,
                                                          CourseSession.ends_at)), 0.0))
             .where(CourseSession.course_id == Course.id).scalar_subquery())
    statement = (select(Course.id, Course.title, Course.organisation_id, Course.starts_at,
                        Category.name, ServiceArea.name,
                        Course.visibility == Visibility.INTERNAL, hours)
                 .outerjoin(Category, Category.id == Course.category_id)
                 .outerjoin(ServiceArea, ServiceArea.id == Course.service_area_id)
                 .where(_period(starts, ends)))
    if scope.kind == "host":
        statement = statement.where(Course.organisation_id == scope.organisation_id)
    elif scope.kind == "employer":
        statement = statement.where(Course.id.in_(
            select(Registration.course_id).where(
                Registration.employer_organisation_id == scope.organisation_id,
                Registration.state != RegistrationState.PENDING)))
    return {row[0]: CourseFacts(*row[:6], internal=bool(row[6]),
                                hours=round(float(row[7] or 0), 2))
            for row in session.execute(statement)}


def organisation_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.name)).all())
