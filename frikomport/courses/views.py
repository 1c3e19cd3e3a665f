"""Public catalogue: browse with filters, month calendar, course page, feeds, attachments."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

from flask import Blueprint, Response, flash, g, render_template, request, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from frikomport.courses import choices, queries
from frikomport.courses import feed_window as feeds
from frikomport.courses.attachments import get_attachment_for_viewer, stored_path
from frikomport.courses.feeds import calendar_bytes
from frikomport.courses.models import Category
from frikomport.courses.queries import CourseFilters
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.inputs import int_arg
from frikomport.registrations import services as registrations
from frikomport.registrations.engine import waiting_position
from frikomport.registrations.forms import RegisterForm
from frikomport.registrations.models import RegistrationState
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.tenancy.scoping import get_scoped
from frikomport.timeutil import month_bounds, parse_month, to_local

bp = Blueprint("courses", __name__, url_prefix="/courses")
feeds_bp = tenant_blueprint("organisation_feeds", __name__)

ICAL_MIMETYPE = "text/calendar; charset=utf-8"
MAX_PAGE = 10_000


def _month_filter(raw: str | None) -> date | None:
    """The ``?month=YYYY-MM`` filter; a malformed value is reported and ignored."""
    month = parse_month(raw)
    if raw and month is None:
        flash(_("“%(value)s” is not a month (use YYYY-MM); the filter is ignored.",
                value=raw[:20]), "warning")
    return month


def _filters_from(args) -> CourseFilters:
    return CourseFilters(
        organisation=args.get("organisation", "").strip(),
        category=args.get("category", "").strip(),
        service_area=args.get("service_area", "").strip(),
        month=_month_filter(args.get("month")),
        free_seats=args.get("free_seats") == "1",
        page=int_arg(args, "page", 1, 1, MAX_PAGE),
    )


@bp.get("/")
def index():
    filters = _filters_from(request.args)
    pagination = queries.browse(db.session, current_user, filters)
    return render_template("courses/list.html", pagination=pagination, filters=filters,
                           choices=choices.filter_choices(db.session, current_user))


@bp.get("/calendar")
def month_calendar():
    today = to_local(utcnow()).date()
    month = _month_filter(request.args.get("month")) or today.replace(day=1)
    shown = queries.sessions_in_month(db.session, current_user, month.year, month.month)
    by_day: dict[date, list[queries.CalendarEntry]] = {}
    for entry in shown.entries:
        by_day.setdefault(to_local(entry.starts_at).date(), []).append(entry)
    weeks = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
        month.year, month.month)
    previous = (month - timedelta(days=1)).replace(day=1)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return render_template("courses/calendar.html", month=month, weeks=weeks, by_day=by_day,
                           today=today, previous=previous, following=following,
                           truncated=shown.truncated, limit=shown.limit,
                           next_month=None if by_day else _next_month_with_courses(following))


def _next_month_with_courses(after: date) -> date | None:
    """The month of the first course from ``after`` on, for an empty month's pointer."""
    start, _end = month_bounds(after.year, after.month)
    found = queries.first_session_start(db.session, current_user, start)
    return to_local(found).date().replace(day=1) if found else None


@bp.get("/<int:course_id>")
def detail(course_id: int):
    course = queries.get_visible_course(db.session, current_user, course_id)
    now = utcnow()
    registration = registrations.registration_of(db.session, current_user, course)
    position = (waiting_position(db.session, registration) if registration
                and registration.state == RegistrationState.WAITLISTED else None)
    return render_template(
        "courses/detail.html", course=course, now=now, registration=registration,
        position=position, closed=registrations.registration_closed_reason(course, now),
        cancellation_closed=registrations.cancellation_closed(course, now),
        register_form=RegisterForm())


@bp.get("/<int:course_id>.ics")
def course_ical(course_id: int):
    course = queries.get_visible_course(db.session, current_user, course_id)
    return _ical(feeds.course_version(course), None, course.title, f"kurs-{course.id}.ics",
                 lambda: [course])


@bp.get("/<int:course_id>/attachments/<int:attachment_id>")
def attachment(course_id: int, attachment_id: int):
    course = queries.get_visible_course(db.session, current_user, course_id)
    found = get_attachment_for_viewer(db.session, current_user, course, attachment_id)
    return send_file(stored_path(found), mimetype=found.content_type, as_attachment=True,
                     download_name=found.filename, max_age=0)


@bp.get("/feed.atom")
def atom_feed():
    """The newest courses of the feed window; 304 when the reader has them already."""
    window = feeds.current_window()
    query = feeds.atom_query(current_user, window)

    def build() -> str:
        return render_template("courses/atom.xml", updated=utcnow(),
                               courses=feeds.load_for_atom(db.session, query))

    return feeds.conditional_response(
        feeds.feed_version(db.session, query), window,
        ("atom", feeds.viewer_key(current_user), str(get_locale())), build,
        "application/atom+xml; charset=utf-8", public=True)


@feeds_bp.get("/courses.ics")
def organisation_ical():
    window = feeds.current_window()
    query = feeds.calendar_query(current_user, window, g.organisation)
    return _ical(feeds.feed_version(db.session, query), window,
                 _("Courses – %(name)s", name=g.organisation.name),
                 f"kurs-{g.organisation.slug}.ics",
                 lambda: feeds.load_for_calendar(db.session, query))


@feeds_bp.get("/categories/<int:category_id>.ics")
def category_ical(category_id: int):
    category = get_scoped(db.session, Category, g.organisation, category_id)
    window = feeds.current_window()
    query = feeds.calendar_query(current_user, window, g.organisation, category)
    return _ical(feeds.feed_version(db.session, query), window,
                 f"{category.name} – {g.organisation.name}",
                 f"kurs-{g.organisation.slug}-{category.id}.ics",
                 lambda: feeds.load_for_calendar(db.session, query))


def _ical(version: feeds.FeedVersion, window: feeds.FeedWindow | None, name: str,
          filename: str, courses: Callable[[], list]) -> Response:
    """A calendar answered conditionally: ``courses`` is only called (and the calendar
    only built) when the client's copy is out of date."""
    response = feeds.conditional_response(
        version, window, ("ical", feeds.viewer_key(current_user), name),
        lambda: calendar_bytes(courses(), name, window), ICAL_MIMETYPE, public=True)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
