"""Statistics of an organisation (as course host or as employer) and of the region.

Who may read what is decided in :mod:`frikomport.permissions`: organisers and admins
read their organisation's courses, admins also what their own people took part in, and
every admin (and the site admin) the region's totals. Only counts leave this module.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.orm import Session

from frikomport.lru import LRU
from frikomport.periods import bounds
from frikomport.permissions import Permission, ensure, ensure_region_statistics
from frikomport.statistics import queries, report
from frikomport.statistics.queries import Scope
from frikomport.statistics.report import Figures, Report
from frikomport.tenancy.models import Organisation

HOST, EMPLOYER, REGION = "host", "employer", "region"
# Reports kept per process; a worker serves requests one at a time, threads would share.
_reports = LRU(32)
KEPT_SECONDS = 300  # at most, also when nothing seems to have changed (see data_version)
_lock = threading.Lock()


def organisation_scope(actor, organisation: Organisation, kind: str) -> Scope:
    """The organisation's figures as host or employer, if the actor may read them."""
    permission = (Permission.VIEW_EMPLOYER_STATISTICS if kind == EMPLOYER
                  else Permission.VIEW_HOST_STATISTICS)
    ensure(actor, permission, organisation)
    return Scope(EMPLOYER if kind == EMPLOYER else HOST, organisation.id)


def region_scope(actor) -> Scope:
    ensure_region_statistics(actor)
    return Scope(REGION)


def year_before(day: date) -> date:
    """The same day a year earlier; the end of February for the end of February (so
    a period to 28 February 2025 is compared with one to 29 February 2024)."""
    if day.month == 2 and (day + timedelta(days=1)).month == 3:
        return date(day.year - 1, 3, 1) - timedelta(days=1)
    return day.replace(year=day.year - 1)


def build(session: Session, scope: Scope, first: date, last: date, reader=None) -> Report:
    """The report of the courses that start from ``first`` to ``last`` (Oslo days).

    Kept per process while the data stays the same (see :func:`queries.data_version`)
    and for at most KEPT_SECONDS, so the page's charts and spreadsheets, asked for right
    after it, cost one query.
    In the region's report, another organisation's internal courses count in every
    figure but are not listed by title unless the ``reader`` is the site admin (without a
    reader, for the command line and the tests, everything is listed)."""
    key = (scope, first, last, get_locale().language, queries.data_version(session))
    with _lock:
        kept = _reports.lookup(key)
    if kept is None or time.monotonic() - kept[0] > KEPT_SECONDS:
        kept = (time.monotonic(), _build(session, scope, first, last))
        with _lock:
            _reports.store(key, kept)
    result = kept[1]
    if scope.kind == REGION and reader is not None and not reader.is_site_admin:
        listed = _listed_for(reader, result.by_course)
        result = replace(result, by_course=listed,
                         unlisted_courses=len(result.by_course) - len(listed))
    return result


def _build(session: Session, scope: Scope, first: date, last: date) -> Report:
    if session.get_bind().dialect.name == "postgresql":
        # Compiling these queries to machine code (PostgreSQL's JIT, which their cost
        # estimates set off) took longer than running them: 25–100 ms each.
        session.execute(text("SET LOCAL jit = off"))
    rows = report.course_rows(queries.per_course(session, scope, *bounds(first, last)))
    earlier_first, earlier_last = year_before(first), year_before(last)
    previous = {month: Figures.of(sums, hours) for month, (sums, hours) in queries.per_month(
        session, scope, report.months_of(earlier_first, earlier_last),
        *bounds(earlier_first, earlier_last)).items()}
    names = queries.organisation_names(session)

    def organisation(key) -> str:
        return names.get(key) or _("Guests and people without an employer")

    keys = {"month": report.month_of, "category": lambda course: course.category,
            "service_area": lambda course: course.service_area}
    if scope.kind != HOST:
        keys["host"] = lambda course: course.host_id
    by = report.rollups(rows, keys)
    result = Report(
        scope=scope, first=first, last=last, course_count=len(rows),
        totals=report.total(rows), previous=report.sum_of(previous.values()),
        months=report.by_month(by["month"], previous, first, last),
        by_category=report.named(by["category"], lambda name: name or _("No category")),
        by_service_area=report.named(by["service_area"],
                                     lambda name: name or _("No service area")),
        by_course=report.per_course(rows))
    if scope.kind != EMPLOYER:
        result.by_employer = report.named(
            {employer: Figures.of(sums, hours) for employer, sums, hours
             in queries.per_employer(session, scope, *bounds(first, last))}, organisation)
    if scope.kind != HOST:
        result.by_host = report.named(by["host"], organisation)
    return result


def _listed_for(reader, courses: list) -> list:
    own = {membership.organisation_id for membership in reader.memberships}
    return [(course, figures) for course, figures in courses
            if not course.internal or course.host_id in own]
