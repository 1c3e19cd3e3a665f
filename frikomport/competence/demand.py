"""Who needs which competence, and the region's demand for it, to plan courses by.

A person *needs* competence C in organisation O within N months when

* a requirement of their unit in O (:class:`~frikomport.competence.models.Requirement`)
  names C, for everyone (job title "") or for their job title (compared as
  :func:`frikomport.competence.requirements.title_key` says), and
* what they hold of C today (the latest ``valid_until`` of their approved records valid
  from today or earlier, None: no expiry; see :func:`frikomport.competence.records.latest`)
  is missing, or runs out before today + N months (Oslo days):
  ``valid_until < add_months(today, N)``.

Disabled accounts need nothing. An organisation's own competence is needed only by its
own people (a requirement elsewhere naming it does not count), and only readers from
that organisation see its demand; the region's catalogue counts in every organisation.
Of those who need it, *missing* do not hold it today (never held, or expired) and
*expiring* hold it today but not for the whole N months.

Everything here is counted in SQL, a few queries per page whatever the number of people.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from frikomport.accounts.models import User
from frikomport.competence.models import Competence, CourseCompetence, Requirement
from frikomport.competence.records import add_months, latest, today
from frikomport.competence.requirements import title_applies
from frikomport.courses.models import Course, CourseState
from frikomport.db import utcnow
from frikomport.errors import NotFoundError, PermissionDeniedError
from frikomport.permissions import Permission, can, visible_courses_clause
from frikomport.tenancy.models import Membership, Organisation

MONTHS_DEFAULT, MONTHS_MIN, MONTHS_MAX = 6, 1, 24


def required(competence_ids=None) -> Select:
    """Rows ``(user_id, organisation_id, unit_id, competence_id)``, distinct: the people
    a requirement of their unit names a competence for, whatever they hold."""
    statement = (
        select(Membership.user_id, Membership.organisation_id, Membership.unit_id,
               Requirement.competence_id)
        .join(User, User.id == Membership.user_id)
        .join(Requirement, and_(Requirement.unit_id == Membership.unit_id,
                                Requirement.organisation_id == Membership.organisation_id,
                                title_applies(User.job_title)))
        .join(Competence, Competence.id == Requirement.competence_id)
        .where(User.is_enabled,
               or_(Competence.organisation_id.is_(None),
                   Competence.organisation_id == Membership.organisation_id))
        .distinct())
    if competence_ids is not None:
        statement = statement.where(Requirement.competence_id.in_(list(competence_ids)))
    return statement


def needing(horizon: date, on: date, competence_ids=None) -> Select:
    """Rows ``(user_id, organisation_id, competence_id, until)`` of the people who need a
    competence before ``horizon``, by what they hold on day ``on`` (``until`` None: not
    held by then)."""
    competence_ids = None if competence_ids is None else list(competence_ids)
    pairs = required(competence_ids).subquery("required")
    holding = latest(on, competence_ids=select(Requirement.competence_id)
                     if competence_ids is None else competence_ids).subquery("held")
    until = holding.c.until
    return (select(pairs.c.user_id, pairs.c.organisation_id, pairs.c.competence_id,
                   until.label("until"))
            .select_from(pairs)
            .outerjoin(holding, and_(holding.c.user_id == pairs.c.user_id,
                                     holding.c.competence_id == pairs.c.competence_id))
            .where(or_(until.is_(None), until < horizon)))


@dataclass(frozen=True)
class Need:
    organisation: Organisation
    needing: int
    missing: int  # of ``needing``: do not hold it today

    @property
    def expiring(self) -> int:
        return self.needing - self.missing


@dataclass(frozen=True)
class CompetenceDemand:
    competence: Competence
    needs: list[Need]      # by organisation name
    courses: list[Course]  # upcoming, published, visible to the reader; by start

    @property
    def needing(self) -> int:
        return sum(need.needing for need in self.needs)


def reader_organisations(actor) -> set[int] | None:
    """The organisations whose own competences' demand ``actor`` may read (None: all,
    for the site admin). Raises unless the actor may read the region's demand at all:
    the site admin, and organisers and admins of any organisation."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise NotFoundError()
    if actor.is_site_admin:
        return None
    allowed = {m.organisation_id for m in actor.memberships
               if can(actor, Permission.VIEW_COMPETENCE_DEMAND, m.organisation)}
    if not allowed:
        raise PermissionDeniedError()
    return allowed


def months_in_range(months: int) -> int:
    return min(max(months, MONTHS_MIN), MONTHS_MAX)


def counts(session: Session, horizon: date, on: date) -> dict[tuple[int, int], tuple[int, int]]:
    """``(competence_id, organisation_id) → (needing, missing)`` before ``horizon``, as of
    day ``on``. One query."""
    rows = needing(horizon, on).subquery("needing")
    missing = case((or_(rows.c.until.is_(None), rows.c.until < on), 1), else_=0)
    statement = (select(rows.c.competence_id, rows.c.organisation_id, func.count(),
                        func.sum(missing))
                 .group_by(rows.c.competence_id, rows.c.organisation_id))
    return {(competence_id, organisation_id): (int(total), int(lacking))
            for competence_id, organisation_id, total, lacking in session.execute(statement)}


def demand(session: Session, actor, months: int, now: datetime | None = None
           ) -> list[CompetenceDemand]:
    """The region's demand within ``months`` (1–24) for each competence someone needs,
    by organisation, with the upcoming courses that grant it. Four queries."""
    own_allowed = reader_organisations(actor)
    now = now or utcnow()
    on = today(now)
    found = counts(session, add_months(on, months_in_range(months)), on)
    competences = {c.id: c for c in session.scalars(
        select(Competence).options(joinedload(Competence.organisation))
        .where(Competence.id.in_({competence_id for competence_id, _ in found})))
        if c.organisation_id is None or own_allowed is None
        or c.organisation_id in own_allowed}
    organisations = {o.id: o for o in session.scalars(select(Organisation).where(
        Organisation.id.in_({organisation_id for _, organisation_id in found})))}
    needs = defaultdict(list)
    for (competence_id, organisation_id), (total, lacking) in found.items():
        if competence_id in competences:
            needs[competence_id].append(Need(organisations[organisation_id], total, lacking))
    courses = upcoming_courses(session, actor, competences, now)
    result = [CompetenceDemand(competence, sorted(needs[competence.id],
                                                  key=lambda n: n.organisation.name.casefold()),
                               courses.get(competence.id, []))
              for competence in competences.values()]
    return sorted(result, key=lambda d: d.competence.name.casefold())


def upcoming_courses(session: Session, viewer, competence_ids, now: datetime
                     ) -> dict[int, list[Course]]:
    """``competence_id → courses`` that grant it: published, not started, visible to
    ``viewer`` (a person, for their reminder, or the reader of the demand page)."""
    competence_ids = list(competence_ids)
    if not competence_ids:
        return {}
    rows = session.execute(
        select(CourseCompetence.competence_id, Course)
        .join(Course, Course.id == CourseCompetence.course_id)
        .join(Course.organisation)
        .options(contains_eager(Course.organisation))
        .where(CourseCompetence.competence_id.in_(competence_ids),
               Course.state == CourseState.PUBLISHED, Course.starts_at > now,
               visible_courses_clause(viewer))
        .order_by(Course.starts_at, Course.id))
    found: dict[int, list[Course]] = defaultdict(list)
    for competence_id, course in rows:
        found[competence_id].append(course)
    return found
