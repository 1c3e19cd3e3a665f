"""Bounded, conditional feeds: which courses a feed covers, and whether the client
already has them.

Calendar clients poll feeds every few minutes, and an unbounded organisation feed cost
half a second of CPU per poll at 50,000 courses. So every feed

- covers a window of months around today (``FEED_MONTHS_BACK`` / ``FEED_MONTHS_AHEAD``)
  selected in SQL through indexed columns, and is capped at ``FEED_MAX_EVENTS``;
- carries a weak ``ETag`` and a ``Last-Modified`` computed by one aggregate query over
  the same capped rows (no Course objects), and answers ``304 Not Modified`` before
  anything is loaded or built.

The window moves once a day (it is anchored at 00:00 UTC), which is also the longest
that a change the aggregate cannot see (a location renamed) stays out of a feed.
"""

from __future__ import annotations

import calendar
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Response, current_app, request
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, defer, joinedload, selectinload
from werkzeug.http import is_resource_modified

from frikomport.courses.models import Category, Course, CourseSession, CourseState
from frikomport.courses.queries import per_row
from frikomport.db import utcnow
from frikomport.lru import LRU
from frikomport.permissions import visible_courses_clause
from frikomport.registrations.models import SEATED_STATES, Registration, RegistrationState
from frikomport.tenancy.models import Organisation

# Bump when the feed's content changes for the same data, so clients fetch it anew.
FORMAT_VERSION = 1
FEED_STATES = (CourseState.PUBLISHED, CourseState.CANCELLED, CourseState.FINISHED)
PERSONAL_STATES = (*SEATED_STATES, RegistrationState.WAITLISTED)
ATOM_ENTRIES = 50
# Built feeds kept per process, by ETag: a 1,000-event calendar is ~0.6 MB.
BODY_CACHE_SIZE = 16
_bodies = LRU(BODY_CACHE_SIZE)
_bodies_lock = threading.Lock()


@dataclass(frozen=True)
class FeedWindow:
    """The period a feed covers: courses that end before ``start`` or begin at or after
    ``end`` are left out."""

    start: datetime
    end: datetime
    anchor: datetime  # today 00:00 UTC, from which the window is counted
    max_events: int

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return ends_at >= self.start and starts_at < self.end


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (earlier if negative), clamped to the month's end."""
    year, month = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def current_window() -> FeedWindow:
    config = current_app.config
    anchor = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return FeedWindow(start=_add_months(anchor, -config["FEED_MONTHS_BACK"]),
                      end=_add_months(anchor, config["FEED_MONTHS_AHEAD"]),
                      anchor=anchor, max_events=config["FEED_MAX_EVENTS"])


# Queries ---------------------------------------------------------------------------------

def _in_window(window: FeedWindow) -> ColumnElement[bool]:
    """Courses with time in the window. ``ends_at`` bounds the history (an index on
    (organisation_id, ends_at) reads only the window); ``starts_at`` the far future."""
    return and_(Course.ends_at >= window.start, Course.starts_at < window.end)


def calendar_query(user, window: FeedWindow, organisation: Organisation,
                   category: Category | None = None) -> Select[tuple[Course]]:
    """An organisation's (or one category's) visible courses in the window, capped;
    cancelled ones too, so that calendars mark them cancelled."""
    query = select(Course).where(per_row(and_(visible_courses_clause(user),
                                              Course.state.in_(FEED_STATES))),
                                 Course.organisation_id == organisation.id, _in_window(window))
    if category is not None:
        query = query.where(Course.category_id == category.id)
    return query.order_by(Course.starts_at, Course.id).limit(window.max_events)


def personal_query(user, window: FeedWindow) -> Select[tuple[Course]]:
    """The courses in the window where ``user`` has a seat or a waiting-list place."""
    return (select(Course).join(Registration, Registration.course_id == Course.id)
            .where(Registration.user_id == user.id, Registration.state.in_(PERSONAL_STATES),
                   _in_window(window))
            .order_by(Course.starts_at, Course.id).limit(window.max_events))


def atom_query(user, window: FeedWindow) -> Select[tuple[Course]]:
    """The newest published courses in the window (the published_at index, newest first,
    stops after ``ATOM_ENTRIES``; the window bounds its walk when fewer match). State and
    visibility are checked per row: SQLite would otherwise start from every published
    course through the state index and sort them all (``per_row``)."""
    listed = and_(visible_courses_clause(user), Course.state == CourseState.PUBLISHED)
    return (select(Course)
            .where(per_row(listed), Course.published_at >= window.start, _in_window(window))
            .order_by(Course.published_at.desc(), Course.id.desc()).limit(ATOM_ENTRIES))


def load_for_calendar(session: Session, query: Select[tuple[Course]]) -> list[Course]:
    """What an event shows, in the same few queries whatever the number of courses
    (courses with organiser and location; sessions per 500 courses)."""
    query = query.options(joinedload(Course.organisation), joinedload(Course.location),
                          selectinload(Course.sessions), defer(Course.description),
                          defer(Course.cancel_reason))
    return list(session.scalars(query).unique())


def load_for_atom(session: Session, query: Select[tuple[Course]]) -> list[Course]:
    query = query.options(joinedload(Course.organisation), joinedload(Course.category))
    return list(session.scalars(query).unique())


# Versions and conditional responses ------------------------------------------------------

@dataclass(frozen=True)
class FeedVersion:
    """What the feed's rows look like, from one aggregate query."""

    courses: int
    sessions: int
    newest_session: int | None  # editing sessions replaces them: new ids appear
    changed: datetime | None    # the newest updated_at among the rows

    def last_modified(self, window: FeedWindow | None) -> datetime | None:
        """The newest change, or the window's last move if later (the window leaving a
        course out is a change too)."""
        if window is None:
            return self.changed
        return max(self.changed or window.anchor, window.anchor)


def feed_version(session: Session, query: Select[tuple[Course]],
                 *also_changed: ColumnElement[datetime]) -> FeedVersion:
    """Count and newest change of the feed's own capped rows (``also_changed``: more
    timestamps that change its content, e.g. the registration's).

    The sessions are counted per course row (a correlated lookup on
    ``course_session.course_id``): joining them made PostgreSQL hash the whole session
    table, which grows with every course ever held."""
    stamps = [Course.updated_at, *also_changed]
    of_course = CourseSession.course_id == Course.id
    rows = query.with_only_columns(
        Course.id,
        select(func.count(CourseSession.id)).where(of_course).scalar_subquery().label("n"),
        select(func.max(CourseSession.id)).where(of_course).scalar_subquery().label("newest"),
        *(stamp.label(f"changed_{n}") for n, stamp in enumerate(stamps))).subquery()
    aggregate = select(func.count(rows.c.id), func.coalesce(func.sum(rows.c.n), 0),
                       func.max(rows.c.newest),
                       *(func.max(rows.c[f"changed_{n}"]) for n in range(len(stamps))))
    courses, sessions, newest_session, *changed = session.execute(aggregate).one()
    changed = [stamp for stamp in changed if stamp is not None]
    return FeedVersion(courses, int(sessions), newest_session, max(changed, default=None))


def course_version(course: Course) -> FeedVersion:
    """The same for one loaded course (its calendar): no query."""
    return FeedVersion(1, len(course.sessions),
                       max((s.id for s in course.sessions), default=None), course.updated_at)


def _etag(parts: tuple) -> str:
    return hashlib.blake2b(repr((FORMAT_VERSION, *parts)).encode(), digest_size=16).hexdigest()


def conditional_response(version: FeedVersion, window: FeedWindow | None, key: tuple,
                         build: Callable[[], bytes | str], content_type: str,
                         public: bool) -> Response:
    """A ``304 Not Modified`` when the client's ``If-None-Match`` (or, without one, its
    ``If-Modified-Since``) matches, else the feed ``build`` makes.

    ``key`` holds what else the body depends on (feed kind, viewer, title, language).
    The ETag is weak: the body differs in its DTSTAMPs, not in meaning. Public feeds
    may be kept by shared caches briefly; the app's after-request hook makes them
    ``private, no-store`` for logged-in viewers, who may see more.
    """
    etag = _etag((*key, version, window))
    last_modified = version.last_modified(window)
    response = Response(content_type=content_type)
    response.set_etag(etag, weak=True)
    if last_modified is not None:
        response.last_modified = last_modified
    if public:
        response.cache_control.public = True
        response.cache_control.max_age = current_app.config["FEED_MAX_AGE_SECONDS"]
    else:
        response.cache_control.private = True
    if is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        response.set_data(_body(etag, build))
    else:
        response.status_code = 304
    return response


def _body(etag: str, build: Callable[[], bytes | str]) -> bytes | str:
    """The feed with this ETag, built at most once per process in each period of
    ``FEED_MAX_AGE_SECONDS``.

    Calendar clients poll, and many send no ``If-None-Match`` (new subscribers, some
    clients always): a 1,000-event calendar costs about half a second of CPU to build,
    the same bytes for every poll until a course in it changes. The period bounds what
    the version cannot see (a renamed location, say) to the staleness the public
    ``Cache-Control`` already allows. Built outside the lock, so a slow build holds up
    nobody else (two threads may then build the same feed)."""
    key = (etag, int(time.time() // current_app.config["FEED_MAX_AGE_SECONDS"]))
    with _bodies_lock:
        body = _bodies.lookup(key)
    if body is None:
        body = build()
        with _bodies_lock:
            _bodies.store(key, body)
    return body


def viewer_key(user) -> str:
    """Who the feed was built for: its courses depend on the viewer's memberships."""
    return f"user-{user.id}" if getattr(user, "is_authenticated", False) else "anonymous"
