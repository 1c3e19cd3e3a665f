"""Statistics of an organisation (as course host or as employer) and of the region.

Who may read what is decided in :mod:`frikomport.permissions`: organisers and admins
read their organisation's courses, admins also what their own people took part in, and
every admin (and the site admin) the region's totals. Only counts leave this module.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from frikomport.periods import bounds
from frikomport.permissions import Permission, ensure, ensure_region_statistics
from frikomport.statistics import queries, report
from frikomport.statistics.queries import Scope
from frikomport.statistics.report import Report
from frikomport.tenancy.models import Organisation

HOST, EMPLOYER, REGION = "host", "employer", "region"


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
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def build(session: Session, scope: Scope, first: date, last: date, reader=None) -> Report:
    """The report of the courses that start from ``first`` to ``last`` (Oslo days).

    In the region's report, another organisation's internal courses count in every
    figure but are not listed by title unless the ``reader`` is the site admin (without a
    reader, for the command line and the tests, everything is listed)."""
    rows = queries.counts(session, scope, *bounds(first, last))
    facts = queries.courses(session, scope, *bounds(first, last))
    earlier = (year_before(first), year_before(last))
    previous_rows = queries.counts(session, scope, *bounds(*earlier))
    previous_facts = queries.courses(session, scope, *bounds(*earlier))
    names = queries.organisation_names(session)
    result = Report(
        scope=scope, first=first, last=last, course_count=len(facts),
        totals=report.total(rows, facts),
        previous=report.total(previous_rows, previous_facts),
        months=report.by_month(rows, facts, previous_rows, previous_facts, first, last),
        by_category=report.named(
            report.rollup(rows, facts, lambda _row, course: course.category),
            lambda name: name or _("No category")),
        by_service_area=report.named(
            report.rollup(rows, facts, lambda _row, course: course.service_area),
            lambda name: name or _("No service area")),
        by_course=report.per_course(rows, facts))

    def organisation(key) -> str:
        return names.get(key) or _("Guests and people without an employer")

    if scope.kind != EMPLOYER:
        result.by_employer = report.named(
            report.rollup(rows, facts, lambda row, _course: row.employer_id), organisation)
    if scope.kind != HOST:
        result.by_host = report.named(
            report.rollup(rows, facts, lambda _row, course: course.host_id), organisation)
    if scope.kind == REGION and reader is not None and not reader.is_site_admin:
        listed = _listed_for(reader, result.by_course)
        result.unlisted_courses = len(result.by_course) - len(listed)
        result.by_course = listed
    return result


def _listed_for(reader, courses: list) -> list:
    own = {membership.organisation_id for membership in reader.memberships}
    return [(course, figures) for course, figures in courses
            if not course.internal or course.host_id in own]
