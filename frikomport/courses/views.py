"""Public catalogue: browse with filters, month calendar, course page, feeds, attachments."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from flask import Blueprint, Response, flash, g, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from frikomport.courses import queries
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
                           choices=queries.filter_choices(db.session, current_user))


@bp.get("/calendar")
def month_calendar():
    today = to_local(utcnow()).date()
    month = _month_filter(request.args.get("month")) or today.replace(day=1)
    by_day: dict[date, list] = {}
    for course_session in queries.sessions_in_month(db.session, current_user, month.year,
                                                    month.month):
        by_day.setdefault(to_local(course_session.starts_at).date(), []).append(course_session)
    weeks = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
        month.year, month.month)
    previous = (month - timedelta(days=1)).replace(day=1)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return render_template("courses/calendar.html", month=month, weeks=weeks, by_day=by_day,
                           today=today, previous=previous, following=following,
                           next_month=None if by_day else _next_month_with_courses(following))


def _next_month_with_courses(after: date) -> date | None:
    """The month of the first course from ``after`` on, for an empty month's pointer."""
    start, _end = month_bounds(after.year, after.month)
    found = queries.first_session_from(db.session, current_user, start)
    return to_local(found.starts_at).date().replace(day=1) if found else None


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
    return _ical([course], course.title, f"kurs-{course.id}.ics")


@bp.get("/<int:course_id>/attachments/<int:attachment_id>")
def attachment(course_id: int, attachment_id: int):
    course = queries.get_visible_course(db.session, current_user, course_id)
    found = get_attachment_for_viewer(db.session, current_user, course, attachment_id)
    return send_file(stored_path(found), mimetype=found.content_type, as_attachment=True,
                     download_name=found.filename, max_age=0)


@bp.get("/feed.atom")
def atom_feed():
    courses = queries.recently_published(db.session, current_user)
    body = render_template("courses/atom.xml", courses=courses, updated=utcnow())
    return Response(body, mimetype="application/atom+xml")


@feeds_bp.get("/courses.ics")
def organisation_ical():
    courses = queries.feed_courses(db.session, current_user, organisation=g.organisation)
    return _ical(courses, _("Courses – %(name)s", name=g.organisation.name),
                 f"kurs-{g.organisation.slug}.ics")


@feeds_bp.get("/categories/<int:category_id>.ics")
def category_ical(category_id: int):
    category = get_scoped(db.session, Category, g.organisation, category_id)
    courses = queries.feed_courses(db.session, current_user, organisation=g.organisation,
                                   category=category)
    return _ical(courses, f"{category.name} – {g.organisation.name}",
                 f"kurs-{g.organisation.slug}-{category.id}.ics")


def _ical(courses, name: str, filename: str) -> Response:
    response = Response(calendar_bytes(courses, name), mimetype=ICAL_MIMETYPE)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
