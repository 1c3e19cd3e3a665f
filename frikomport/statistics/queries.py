"""The SQL behind every statistics table: counts per course, and per employer.

Everything is counted in the database: one query gives each course of the period with
its registrations summed per outcome (attended, no-shows, …), and :mod:`.report` rolls
those course rows up to months, categories, service areas and hosts in Python, so
months follow Oslo time rather than the database's and the registrations are read once.
The figures per employer come from a second query grouped by employer. The covering
indexes ``ix_registration_statistics`` (per course) and
``ix_registration_employer_statistics`` (per employer) hold every column counted, so
the registrations are read from an index alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import Float, case, func, literal, select, true
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
from frikomport.timeutil import local_to_utc

# Courses that took place or will: drafts have no participants, and a cancelled course's
# registrations were cancelled by the organiser, not by the people.
COUNTED_COURSE_STATES = (CourseState.PUBLISHED, CourseState.FINISHED)


@dataclass(frozen=True)
class Scope:
    """Whose figures: a host's courses, an employer's people, or the whole region."""

    kind: str  # "host", "employer" or "region"
    organisation_id: int | None = None


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


def _sums():
    """A registration's contribution to each figure, summed (in the order of SUMS)."""
    state = Registration.state
    never_seated = Registration.queued_at.is_not(None) & Registration.fee_ore.is_(None)

    def number_of(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return (func.count(Registration.course_id), number_of(state == RegistrationState.ATTENDED),
            number_of(state == RegistrationState.NO_SHOW),
            number_of(state == RegistrationState.CANCELLED), number_of(never_seated),
            func.coalesce(func.sum(case((charged_clause(), Registration.fee_ore), else_=0)), 0))


SUMS = ("registrations", "attended", "no_shows", "cancellations", "waiting_only", "fees_ore")


def _counted(scope: Scope):
    """The registrations a scope counts (unconfirmed ones never)."""
    counted = Registration.state != RegistrationState.PENDING
    if scope.kind == "employer":
        counted &= Registration.employer_organisation_id == scope.organisation_id
    return counted


def _host_only(scope: Scope) -> tuple:
    return (Course.organisation_id == scope.organisation_id,) if scope.kind == "host" else ()


def _host_only_columns(scope: Scope) -> tuple:
    return (Course.organisation_id,) if scope.kind == "host" else ()


def _course_hours():
    return (select(func.coalesce(func.sum(hours_between(CourseSession.starts_at,
                                                         CourseSession.ends_at)), 0.0))
            .where(CourseSession.course_id == Course.id).scalar_subquery())


def _labelled_sums(*group):
    return (*group, *(total.label(name) for name, total in zip(SUMS, _sums(), strict=True)))


def _per_course_statement(session: Session, scope: Scope, starts: datetime, ends: datetime,
                          *columns):
    """The courses of the period with ``columns``, their hours and their sums (see
    SUMS): for a host or the region every course, also one nobody registered for; for
    an employer the courses its people took part in, counting only them."""
    if _is_postgresql(session):
        counted = _per_course_lateral(scope)
        statement = (select(*columns, _course_hours().label("hours"), *counted.c)
                     .select_from(Course).join(counted, true()))
        if scope.kind == "employer":
            statement = statement.where(counted.c.registrations > 0)
        return statement.where(_period(starts, ends), *_host_only(scope))
    joined = select(*columns, _course_hours().label("hours"), *_labelled_sums()
                    ).select_from(Course)
    on = (Registration.course_id == Course.id) & _counted(scope)
    joined = (joined.join(Registration, on) if scope.kind == "employer"
              else joined.outerjoin(Registration, on))
    # In the order of the course index used (host or region): SQLite then groups without
    # sorting. Grouped by the primary key, the course's other columns may be selected.
    return (joined.where(_period(starts, ends), *_host_only(scope))
            .group_by(*_host_only_columns(scope), Course.state, Course.starts_at, Course.id))


def _is_postgresql(session: Session) -> bool:
    """PostgreSQL's planner joins the period's courses to a scan of every registration;
    asked per course (LATERAL), it reads each course's registrations from the covering
    index instead. SQLite has no LATERAL, and its planner already does the latter."""
    return session.get_bind().dialect.name == "postgresql"


def _per_course_lateral(scope: Scope, *group):
    """The sums of one course's counted registrations (per ``group``), for LATERAL."""
    return (select(*_labelled_sums(*group))
            .where(Registration.course_id == Course.id, _counted(scope))
            .group_by(*group).correlate(Course).lateral("counted"))


def per_course(session: Session, scope: Scope, starts: datetime,
               ends: datetime) -> list[tuple[CourseFacts, tuple[int, ...]]]:
    """Each counted course that starts in the period, with its sums (see SUMS)."""
    statement = _per_course_statement(
        session, scope, starts, ends, Course.id, Course.title, Course.organisation_id,
        Course.starts_at, Course.category_id, Course.service_area_id, Course.visibility)
    categories, service_areas = _names(session, Category), _names(session, ServiceArea)
    return [(CourseFacts(row[0], row[1], row[2], row[3], categories.get(row[4]),
                         service_areas.get(row[5]), row[6] == Visibility.INTERNAL,
                         round(float(row[7] or 0), 2)),
             tuple(int(value) for value in row[8:]))
            for row in session.execute(statement)]


def per_month(session: Session, scope: Scope, months: list[date], starts: datetime,
              ends: datetime) -> dict[date, tuple[tuple[int, ...], float]]:
    """The sums (see SUMS) and training hours per Oslo month of the period, ``months``
    being the first days of its months. Summed in the database: only the months come
    back, not a row per course."""
    following = [local_to_utc(month, time()) for month in months[1:]]
    month_index = case(*((Course.starts_at < start, index)
                         for index, start in enumerate(following)),
                       else_=len(months) - 1) if following else literal(0)
    courses = _per_course_statement(session, scope, starts, ends,
                                    month_index.label("month")).subquery()
    statement = (select(courses.c.month, *(func.sum(courses.c[name]) for name in SUMS),
                        func.sum(courses.c.attended * courses.c.hours))
                 .group_by(courses.c.month))
    return {months[row[0]]: (tuple(int(value or 0) for value in row[1:7]), float(row[7] or 0))
            for row in session.execute(statement)}


def _names(session: Session, vocabulary) -> dict[int, str]:
    return dict(session.execute(select(vocabulary.id, vocabulary.name)).all())


def per_employer(session: Session, scope: Scope, starts: datetime,
                 ends: datetime) -> list[tuple[int | None, tuple[int, ...], float]]:
    """The sums (see SUMS) and training hours per employer (None: guests and people
    without one) of the courses that start in the period."""
    in_period = (_period(starts, ends), *_host_only(scope))
    statement = (_per_employer_lateral if _is_postgresql(session) else _per_employer_join)(
        scope, in_period).where(*in_period)
    return [(row[0], tuple(int(value) for value in row[1:7]), float(row[7] or 0))
            for row in session.execute(statement)]


def _per_employer_join(scope: Scope, in_period: tuple):
    hours = (select(CourseSession.course_id,
                    func.sum(hours_between(CourseSession.starts_at,
                                           CourseSession.ends_at)).label("hours"))
             .join(Course, Course.id == CourseSession.course_id).where(*in_period)
             .group_by(CourseSession.course_id).subquery())
    attended_hours = func.coalesce(func.sum(case(
        (Registration.state == RegistrationState.ATTENDED, hours.c.hours), else_=0.0)), 0.0)
    return (select(*_labelled_sums(Registration.employer_organisation_id), attended_hours)
            .join(Course, Course.id == Registration.course_id)
            .outerjoin(hours, hours.c.course_id == Registration.course_id)
            .where(_counted(scope)).group_by(Registration.employer_organisation_id))


def _per_employer_lateral(scope: Scope, _in_period: tuple):
    counted = _per_course_lateral(scope, Registration.employer_organisation_id)
    hours = (select(func.coalesce(func.sum(hours_between(
        CourseSession.starts_at, CourseSession.ends_at)), 0.0).label("hours"))
        .where(CourseSession.course_id == Course.id).correlate(Course).lateral("hours"))
    employer = counted.c.employer_organisation_id
    return (select(employer, *(func.sum(counted.c[name]) for name in SUMS),
                   func.coalesce(func.sum(counted.c.attended * hours.c.hours), 0.0))
            .select_from(Course).join(counted, true()).join(hours, true())
            .group_by(employer))


def data_version(session: Session) -> tuple:
    """Changes when a figure may: a registration or course written (three index
    lookups). A removed registration changes nothing here, so kept reports also expire
    (see services)."""
    return tuple(session.execute(select(
        select(func.max(Registration.updated_at)).scalar_subquery(),
        select(func.max(Registration.id)).scalar_subquery(),
        select(func.max(Course.updated_at)).scalar_subquery())).one())


def organisation_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.name)).all())
