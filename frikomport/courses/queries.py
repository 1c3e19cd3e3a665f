"""Read side of the catalogue: every query applies the viewer's visibility clause and
loads what list pages show in a constant number of queries (no query per row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from frikomport.courses.models import Category, Course, CourseSession, CourseState, ServiceArea
from frikomport.db import utcnow
from frikomport.errors import NotFoundError
from frikomport.extensions import db
from frikomport.permissions import ensure_can_view_course, visible_courses_clause
from frikomport.tenancy.models import Organisation
from frikomport.timeutil import month_bounds

PER_PAGE = 20
FEED_HISTORY = timedelta(days=90)  # past courses stay in feeds this long


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


def visible_courses(user) -> Select[tuple[Course]]:
    return select(Course).where(visible_courses_clause(user))


def _apply_filters(query: Select, filters: CourseFilters) -> Select:
    if filters.organisation:
        query = query.join(Course.organisation).where(Organisation.slug == filters.organisation)
    if filters.category:
        query = query.join(Course.category).where(Category.name == filters.category)
    if filters.service_area:
        query = query.join(Course.service_area).where(ServiceArea.name == filters.service_area)
    if filters.month:
        start, end = month_bounds(filters.month.year, filters.month.month)
        has_session = select(CourseSession.id).where(
            CourseSession.course_id == Course.id, CourseSession.starts_at >= start,
            CourseSession.starts_at < end).exists()
        query = query.where(has_session)
    if filters.free_seats:
        query = query.where(Course.confirmed_count < Course.capacity)
    return query


def browse(session: Session, user, filters: CourseFilters, per_page: int = PER_PAGE):
    """Upcoming published courses matching the filters, soonest first, paginated."""
    query = visible_courses(user).where(Course.state == CourseState.PUBLISHED,
                                        Course.ends_at >= utcnow())
    query = _with_list_data(_apply_filters(query, filters))
    query = query.order_by(Course.starts_at, Course.id)
    return db.paginate(query, page=filters.page, per_page=per_page, error_out=False)


def upcoming(session: Session, user, limit: int = 6,
             organisation: Organisation | None = None) -> list[Course]:
    query = visible_courses(user).where(Course.state == CourseState.PUBLISHED,
                                        Course.ends_at >= utcnow())
    if organisation is not None:
        query = query.where(Course.organisation_id == organisation.id)
    query = _with_list_data(query).order_by(Course.starts_at, Course.id).limit(limit)
    return list(session.scalars(query).unique())


def filter_choices(session: Session, user) -> dict[str, list[str]]:
    """Distinct organisation, category and service-area names among visible courses."""
    base = visible_courses(user).where(Course.state == CourseState.PUBLISHED,
                                       Course.ends_at >= utcnow()).subquery()

    def names(model, key: str) -> list[str]:
        query = (select(model.name).join(base, getattr(base.c, key) == model.id)
                 .distinct().order_by(model.name))
        return list(session.scalars(query))

    return {
        "organisations": list(session.execute(
            select(Organisation.slug, Organisation.name)
            .join(base, base.c.organisation_id == Organisation.id)
            .distinct().order_by(Organisation.name))),
        "categories": names(Category, "category_id"),
        "service_areas": names(ServiceArea, "service_area_id"),
    }


def get_visible_course(session: Session, user, course_id: int) -> Course:
    course = session.scalar(_with_list_data(select(Course).where(Course.id == course_id)))
    if course is None:
        raise NotFoundError()
    ensure_can_view_course(user, course)
    return course


def _visible_sessions(user) -> Select[tuple[CourseSession]]:
    """Sessions of visible published courses, soonest first, with course and organiser."""
    return (
        select(CourseSession)
        .join(CourseSession.course)
        .where(visible_courses_clause(user), Course.state == CourseState.PUBLISHED)
        .options(joinedload(CourseSession.course).joinedload(Course.organisation))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )


def sessions_in_month(session: Session, user, year: int, month: int) -> list[CourseSession]:
    """Every session of a visible published course that starts in the (Oslo) month."""
    start, end = month_bounds(year, month)
    query = _visible_sessions(user).where(CourseSession.starts_at >= start,
                                          CourseSession.starts_at < end)
    return list(session.scalars(query))


def first_session_from(session: Session, user, moment: datetime) -> CourseSession | None:
    """The first visible session starting at or after the moment (for "next courses")."""
    query = _visible_sessions(user).where(CourseSession.starts_at >= moment).limit(1)
    return session.scalars(query).first()


def courses_by_id(session: Session, user, course_ids: list[int]) -> dict[int, Course]:
    """The visible courses with these ids, with what a course card shows (for search hits)."""
    if not course_ids:
        return {}
    query = _with_list_data(visible_courses(user).where(Course.id.in_(course_ids)))
    return {course.id: course for course in session.scalars(query).unique()}


def feed_courses(session: Session, user, organisation: Organisation | None = None,
                 category: Category | None = None, limit: int = 500) -> list[Course]:
    """Published and cancelled courses for iCal feeds (cancelled ones so calendars update)."""
    query = visible_courses(user).where(
        Course.state.in_((CourseState.PUBLISHED, CourseState.CANCELLED, CourseState.FINISHED)),
        Course.ends_at >= utcnow() - FEED_HISTORY)
    if organisation is not None:
        query = query.where(Course.organisation_id == organisation.id)
    if category is not None:
        query = query.where(Course.category_id == category.id)
    query = _with_list_data(query).order_by(Course.starts_at).limit(limit)
    return list(session.scalars(query).unique())


def recently_published(session: Session, user, limit: int = 50) -> list[Course]:
    query = visible_courses(user).where(Course.state == CourseState.PUBLISHED,
                                        Course.published_at.is_not(None))
    query = _with_list_data(query).order_by(Course.published_at.desc()).limit(limit)
    return list(session.scalars(query).unique())


def organisation_courses(session: Session, organisation: Organisation,
                         state: CourseState | None = None) -> list[Course]:
    """All of a tenant's courses for its back office (caller checks MANAGE_COURSES)."""
    query = select(Course).where(Course.organisation_id == organisation.id)
    if state is not None:
        query = query.where(Course.state == state)
    query = _with_list_data(query).order_by(Course.starts_at.desc().nulls_first(), Course.id)
    return list(session.scalars(query).unique())

