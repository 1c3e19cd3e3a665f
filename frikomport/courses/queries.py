"""Read side of the catalogue: every query applies the viewer's visibility clause and
loads what list pages show in a constant number of queries (no query per row).

The catalogue pages (list, calendar, front page, organisation page) also cost the same
at 50,000 courses as at 500: each query reads through an index (migration
``e7b3c5a1d9f4``) and stops after a bounded number of rows: a page of cards, a capped
count, a capped month of calendar entries. The filter choices are probed per
organisation / category / service area, not computed over all courses, and cached
briefly (:mod:`frikomport.courses.choices`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Boolean, ColumnElement, Select, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, defer, joinedload, selectinload
from sqlalchemy.sql.functions import FunctionElement

from frikomport.courses.models import Category, Course, CourseSession, CourseState, ServiceArea
from frikomport.db import casefolded, page_of, utcnow
from frikomport.errors import NotFoundError
from frikomport.permissions import ensure_can_view_course, visible_courses_clause
from frikomport.tenancy.models import Organisation
from frikomport.timeutil import month_bounds

PER_PAGE = 20
ADMIN_PER_PAGE = 50
COUNT_LIMIT = 1000       # the list counts at most this many matches ("more than 1000")
CALENDAR_LIMIT = 300     # sessions shown in one month of the calendar


@dataclass(frozen=True)
class CourseFilters:
    organisation: str = ""        # slug
    category: str = ""            # name: the same category name across tenants
    service_area: str = ""        # name
    month: date | None = None     # first day of an Oslo month
    free_seats: bool = False
    page: int = 1


def _with_list_data(query: Select) -> Select:
    return query.options(
        joinedload(Course.organisation), joinedload(Course.category),
        joinedload(Course.service_area), joinedload(Course.location),
        selectinload(Course.sessions),
    )


def _with_card_data(query: Select) -> Select:
    """What a course card shows: the long texts (description, cancel reason) stay out."""
    return _with_list_data(query).options(defer(Course.description),
                                          defer(Course.cancel_reason))


def visible_courses(user) -> Select[tuple[Course]]:
    return select(Course).where(visible_courses_clause(user))


def upcoming_clause(user) -> ColumnElement[bool]:
    """Published courses the user may see that have not ended (the catalogue)."""
    return and_(visible_courses_clause(user), Course.state == CourseState.PUBLISHED,
                Course.ends_at >= utcnow())


def _apply_filters(query: Select, filters: CourseFilters, counting: bool = False) -> Select:
    """The list's filters, in the form each query reads best through the indexes.

    The organisation becomes ``organisation_id = (SELECT id ...)``: one organisation's
    courses in start order (``ix_course_organisation_state_starts_at``). A category or
    service-area name may belong to several organisations: the page of cards joins the
    name and walks the courses in start order until the page is full; the count, which
    needs no order, takes ``category_id IN (SELECT id ...)`` through
    ``ix_course_category_state`` (the join form would walk every published course).
    """
    if filters.organisation:
        query = query.where(Course.organisation_id == select(Organisation.id).where(
            Organisation.slug == filters.organisation).scalar_subquery())
    for model, column, name in ((Category, Course.category_id, filters.category),
                                (ServiceArea, Course.service_area_id, filters.service_area)):
        if not name:
            continue
        if counting:
            query = query.where(column.in_(select(model.id).where(model.name == name)))
        else:
            query = query.join(model, column == model.id).where(model.name == name)
    if filters.month:
        start, end = month_bounds(filters.month.year, filters.month.month)
        has_session = select(CourseSession.id).where(
            CourseSession.course_id == Course.id, CourseSession.starts_at >= start,
            CourseSession.starts_at < end).exists()
        query = query.where(has_session)
    if filters.free_seats:
        query = query.where(Course.confirmed_count < Course.capacity)
    return query


class CataloguePage(SelectPagination):
    """A page of the course list whose count stops at :data:`COUNT_LIMIT`.

    Counting every match costs a walk over all of them; past a thousand the exact
    number helps no one, so the count query reads at most ``COUNT_LIMIT + 1`` index
    entries (``SELECT count(*) FROM (SELECT id ... LIMIT 1001)``). ``total`` is then
    ``COUNT_LIMIT`` and ``more`` is true ("more than 1000 courses"); the pages end there.
    """

    more: bool = False

    def _query_count(self) -> int:
        bounded = self._query_args["count_select"].limit(COUNT_LIMIT + 1).subquery()
        found = self._query_args["session"].scalar(select(func.count()).select_from(bounded))
        self.more = found > COUNT_LIMIT
        return min(found, COUNT_LIMIT)


def browse(session: Session, user, filters: CourseFilters,
           per_page: int = PER_PAGE) -> CataloguePage:
    """Upcoming published courses matching the filters, soonest first, paginated.

    The page number is capped where the bounded count ends, so the OFFSET (rows the
    database steps over) never exceeds :data:`COUNT_LIMIT`.
    """
    filters = replace(filters, page=min(filters.page, max(COUNT_LIMIT // per_page, 1)))
    query = _apply_filters(select(Course).where(upcoming_clause(user)), filters)
    count_select = _apply_filters(select(Course.id).where(upcoming_clause(user)), filters,
                                  counting=True)
    return CataloguePage(
        select=_with_card_data(query).order_by(Course.starts_at, Course.id),
        count_select=count_select, session=session, page=filters.page, per_page=per_page,
        max_per_page=None, error_out=False)


def upcoming(session: Session, user, limit: int = 6,
             organisation: Organisation | None = None) -> list[Course]:
    """The next ``limit`` courses (front page, organisation page), in start order."""
    query = select(Course).where(upcoming_clause(user))
    if organisation is not None:
        query = query.where(Course.organisation_id == organisation.id)
    query = _with_card_data(query).order_by(Course.starts_at, Course.id).limit(limit)
    return list(session.scalars(query).unique())


def get_visible_course(session: Session, user, course_id: int) -> Course:
    course = session.scalar(_with_list_data(select(Course).where(Course.id == course_id)))
    if course is None:
        raise NotFoundError()
    ensure_can_view_course(user, course)
    return course


@dataclass(frozen=True)
class CalendarEntry:
    """One session in the month calendar: just what the calendar renders."""

    starts_at: datetime
    course_id: int
    title: str
    content_language: str
    organisation_name: str


@dataclass(frozen=True)
class CalendarMonth:
    entries: list[CalendarEntry]
    limit: int
    truncated: bool  # more than ``limit`` sessions: only the first ``limit`` are shown


class per_row(FunctionElement):
    """A condition checked row by row, which the planner must not use to pick an index.

    Sessions are found by their start (``ix_course_session_starts_at``), then their course
    by primary key, and only then is the course's state and visibility checked. Without
    statistics (no ``ANALYZE`` has run) SQLite guesses that ``course.state = ?`` matches a
    handful of rows and starts from every published course instead: cost growing with
    the catalogue. On SQLite the condition is wrapped in ``likely()`` (a no-op that hides
    it from index selection); elsewhere it is rendered as is.
    """

    type = Boolean()
    inherit_cache = True
    name = "per_row"


@compiles(per_row)
def _per_row(element, compiler, **kw) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(per_row, "sqlite")
def _per_row_sqlite(element, compiler, **kw) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


def _visible_session_starts(user) -> Select:
    """Sessions of visible published courses (any start), soonest first."""
    listed = and_(visible_courses_clause(user), Course.state == CourseState.PUBLISHED)
    return (select(CourseSession.starts_at)
            .join(CourseSession.course)
            .where(per_row(listed))
            .order_by(CourseSession.starts_at, CourseSession.id))


def sessions_in_month(session: Session, user, year: int, month: int,
                      limit: int | None = None) -> CalendarMonth:
    """The sessions of visible published courses that start in the (Oslo) month.

    One narrow query (title, id, start, language, organiser name: no descriptions, no
    Course objects) over the session start index, capped at ``limit`` so a crowded
    month costs no more than a full one.
    """
    limit = limit or CALENDAR_LIMIT
    start, end = month_bounds(year, month)
    query = (_visible_session_starts(user)
             .add_columns(Course.id, Course.title, Course.content_language, Organisation.name)
             .join(Course.organisation)
             .where(CourseSession.starts_at >= start, CourseSession.starts_at < end)
             .limit(limit + 1))
    entries = [CalendarEntry(*row) for row in session.execute(query)]
    return CalendarMonth(entries=entries[:limit], limit=limit, truncated=len(entries) > limit)


def first_session_start(session: Session, user, moment: datetime) -> datetime | None:
    """When the first visible session at or after the moment starts (for "next courses").

    Walking the sessions from a past moment would step over every finished course's
    sessions since then. So one query asks two bounded questions: the first session
    from now on (a walk over upcoming sessions), and, for a past moment, the first one
    before now of a course still published (one that has started and not ended: few,
    found through ``ix_course_state_starts_at``).
    """
    now = utcnow()
    upcoming = _visible_session_starts(user).where(CourseSession.starts_at >= max(moment, now))
    ongoing = (_visible_session_starts(user)
               .where(Course.state == CourseState.PUBLISHED, Course.starts_at < now,
                      CourseSession.starts_at >= moment, CourseSession.starts_at < now))
    found = session.execute(select(upcoming.limit(1).scalar_subquery(),
                                   ongoing.limit(1).scalar_subquery())).one()
    return min((start for start in found if start is not None), default=None)


def courses_by_id(session: Session, user, course_ids: list[int]) -> dict[int, Course]:
    """The visible courses with these ids, with what a course card shows (for search hits)."""
    if not course_ids:
        return {}
    query = _with_list_data(visible_courses(user).where(Course.id.in_(course_ids)))
    return {course.id: course for course in session.scalars(query).unique()}


def organisation_courses(session: Session, organisation: Organisation,
                         state: CourseState | None = None, text: str = "", page: int = 1,
                         per_page: int = ADMIN_PER_PAGE) -> SelectPagination:
    """One page of a tenant's courses for its back office (caller checks MANAGE_COURSES),
    latest start first (drafts without a date on top), by state and words in the title.
    A tenant holds thousands of courses after some years; the page reads fifty."""
    conditions = [Course.organisation_id == organisation.id]
    if state is not None:
        conditions.append(Course.state == state)
    if needle := text.strip().lower():
        conditions.append(casefolded(Course.title).contains(needle, autoescape=True))
    query = _with_card_data(select(Course).where(*conditions)).order_by(
        Course.starts_at.desc().nulls_first(), Course.id)
    return page_of(session, query, page, per_page)

