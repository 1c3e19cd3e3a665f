"""The statistics against a brute-force count (issue 13).

Random data, from a seeded generator: several organisations, categories and service
areas (the same names in two organisations, and none), courses in every state with 0–3
sessions (one across midnight and the change to winter time, one into summer time, one
starting 00:30 Oslo time on the 1st of a month, which is the month before in UTC),
registrations in every state by members, people without an employer and guests, with
and without fees, waiting-list times, charged cancellations and no-show charging.

``services.build`` for every host, every employer and the region, over several periods
(across both changes of time, a leap day, a whole year, one day), is held to a count in
plain Python over the Registration and Course objects: the totals, the same days a year
earlier, every month beside the month a year before, and the rows per category and
service area (merged by name), per course, per employer and per host.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask_babel import gettext as _
from sqlalchemy import select

from frikomport.accounts.models import User
from frikomport.billing import fees
from frikomport.courses.models import (
    Category,
    Course,
    CourseSession,
    CourseState,
    ServiceArea,
    Visibility,
)
from frikomport.extensions import db
from frikomport.periods import bounds
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.statistics import queries, services
from frikomport.statistics.queries import Scope
from frikomport.statistics.report import Figures, Report
from frikomport.timeutil import OSLO, to_local
from tests.factories import OrganisationFactory

State = RegistrationState
COUNTED = (CourseState.PUBLISHED, CourseState.FINISHED)
COUNTS = [f.name for f in fields(Figures) if f.name != "hours"]
PERIODS = [
    (date(2025, 3, 1), date(2025, 10, 31)),   # both changes of time, edges at 00:30
    (date(2024, 2, 29), date(2024, 3, 31)),   # a leap day: a year earlier is 28 February
    (date(2025, 1, 1), date(2025, 12, 31)),   # a whole year
    (date(2025, 6, 15), date(2025, 6, 15)),   # one day
    (date(2025, 3, 1), date(2025, 3, 1)),     # the day of the 00:30 course
]
CATEGORIES = [["Helse", "IT"], ["Helse", "Oppvekst"], ["it"], []]
SERVICE_AREAS = [["Helse og omsorg"], ["Helse og omsorg", "Skole"], [], ["Kultur"]]
DURATIONS = [timedelta(hours=h) for h in (1, 1.5, 2, 3, 7.5)] + [timedelta(minutes=80)]


def oslo(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO).astimezone(UTC)


# Fixed edge cases, besides the random courses: (sessions as Oslo times).
EDGE_COURSES = [
    # 1 March 00:30 Oslo is 28 February 23:30 UTC: March, and inside the first period.
    [(oslo(2025, 3, 1, 0, 30), oslo(2025, 3, 1, 2, 30))],
    # 1 November 00:30 Oslo is 31 October 23:30 UTC: November, after the first period.
    [(oslo(2025, 11, 1, 0, 30), oslo(2025, 11, 1, 3))],
    # 31 October 23:30 Oslo: the last half hour of the first period.
    [(oslo(2025, 10, 31, 23, 30), oslo(2025, 11, 1, 1))],
    # Across midnight and the change to winter time: 23:00–04:00 is six hours.
    [(oslo(2025, 10, 25, 23), oslo(2025, 10, 26, 4)),
     (oslo(2025, 11, 1, 9), oslo(2025, 11, 1, 12))],
    # Across midnight and the change to summer time: 23:00–04:00 is four hours.
    [(oslo(2025, 3, 29, 23), oslo(2025, 3, 30, 4))],
    # A year before the first period (1 March 2024 00:30) and the leap day; a year before
    # the leap-day period: 28 February 2023 23:45 (February in Oslo) and 1 March 00:30.
    [(oslo(2024, 3, 1, 0, 30), oslo(2024, 3, 1, 2))],
    [(oslo(2024, 2, 29, 12), oslo(2024, 2, 29, 15))],
    [(oslo(2023, 2, 28, 23, 45), oslo(2023, 3, 1, 0, 15))],
    [(oslo(2023, 3, 1, 0, 30), oslo(2023, 3, 1, 1, 30))],
    # The one-day period, with a course at 00:00 and one at 23:59 that day and the next.
    [(oslo(2025, 6, 15), oslo(2025, 6, 15, 1))],
    [(oslo(2025, 6, 15, 23, 59), oslo(2025, 6, 16, 1))],
    [(oslo(2025, 6, 16), oslo(2025, 6, 16, 1))],
    [(oslo(2024, 6, 15, 10), oslo(2024, 6, 15, 11))],
]


# --- random data -------------------------------------------------------------------------

def _sessions(rng: random.Random) -> list[tuple[datetime, datetime]]:
    count = rng.choice([0, 1, 1, 1, 2, 3])
    if not count:
        return []
    day = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 3 * 365 + 60))
    if rng.random() < 0.15:
        day = day.replace(day=1)  # the first of a month, often just after midnight
        hour, minute = rng.choice([(0, 0), (0, 30), (1, 0), (23, 30)])
    else:
        hour, minute = rng.randrange(0, 24), rng.choice([0, 15, 30])
    start = oslo(day.year, day.month, day.day, hour, minute)
    return [(start + timedelta(weeks=n), start + timedelta(weeks=n) + rng.choice(DURATIONS))
            for n in range(count)]


def _course(rng, organisation, vocabulary, number, sessions, state=None) -> Course:
    categories, areas = vocabulary[organisation.id]
    course = Course(
        organisation_id=organisation.id, title=f"Kurs {number}", capacity=50,
        state=state or rng.choice(list(CourseState)),
        fee_host_ore=rng.choice([0, 0, 50_000, 120_000]),
        fee_region_ore=rng.choice([0, 75_000, 150_000]),
        fee_guest_ore=rng.choice([0, 99_950, 200_000]),
        charge_no_shows=rng.random() < 0.6, visibility=rng.choice(list(Visibility)),
        starts_at=min((s for s, _e in sessions), default=None),
        ends_at=max((e for _s, e in sessions), default=None))
    course.category = rng.choice([*categories, None])
    course.service_area = rng.choice([*areas, None])
    course.sessions = [CourseSession(organisation_id=organisation.id, starts_at=s, ends_at=e)
                       for s, e in sessions]
    return course


def _registrations(rng, course, employers, people, counter, least=0) -> list[Registration]:
    rows = []
    users = rng.sample(people, rng.randrange(least, 13))
    guests = rng.randrange(0, 3) if rng.random() < 0.5 else 0
    for user in [*users, *([None] * guests)]:
        counter[0] += 1
        state = rng.choice(list(State))
        guest = user is None
        if guest:
            employer = None
        elif rng.random() < 0.1:  # registered for another employer than their own
            employer = rng.choice([*employers, None])
        else:
            employer = user.home_organisation_id
        seated = state in (State.CONFIRMED, State.ATTENDED, State.NO_SHOW) or (
            state == State.CANCELLED and rng.random() < 0.6)
        fee_kind = fee_ore = None
        if (seated and rng.random() < 0.9) or rng.random() < 0.05:  # some legacy oddities
            fee_kind = fees.kind_for(course, employer, guest)
            fee_ore = fees.fee_of(course, fee_kind)
        queued = state == State.WAITLISTED or rng.random() < 0.25
        rows.append(Registration(
            organisation_id=course.organisation_id, course=course,
            user_id=None if guest else user.id,
            name=f"Person {counter[0]}",
            email=f"gjest{counter[0]}@example.org" if guest else user.email,
            employer_organisation_id=employer, state=state, fee_ore=fee_ore,
            fee_kind=fee_kind, queued_at=course.starts_at - timedelta(days=rng.randrange(1, 30))
            if queued and course.starts_at else (oslo(2024, 1, 1) if queued else None),
            charged_cancellation=bool(state == State.CANCELLED and fee_ore
                                      and rng.random() < 0.5)))
    return rows


def populate(seed: int, courses: int = 90) -> list:
    rng = random.Random(seed)
    organisations = [OrganisationFactory() for _ in range(4)]
    vocabulary = {}
    for organisation, categories, areas in zip(organisations, CATEGORIES, SERVICE_AREAS,
                                               strict=True):
        vocabulary[organisation.id] = (
            [Category(organisation_id=organisation.id, name=n) for n in categories],
            [ServiceArea(organisation_id=organisation.id, name=n) for n in areas])
        db.session.add_all(vocabulary[organisation.id][0] + vocabulary[organisation.id][1])
    employers = [o.id for o in organisations]
    people = [User(email=f"ansatt{n}@example.org", name=f"Ansatt {n}",
                   home_organisation_id=rng.choice(employers) if n % 7 else None)
              for n in range(30)]
    db.session.add_all(people)
    db.session.flush()
    counter, added = [0], []
    plans = [(_sessions(rng), None) for _ in range(courses)]
    plans += [(sessions, rng.choice(COUNTED)) for sessions in EDGE_COURSES]
    for number, (sessions, state) in enumerate(plans):
        course = _course(rng, rng.choice(organisations), vocabulary, number, sessions, state)
        db.session.add(course)
        added += _registrations(rng, course, employers, people, counter,
                                least=6 if state else 0)  # the edge cases: some of each
    db.session.add_all(added)
    db.session.commit()
    db.session.expire_all()  # count what the database holds, not what was added
    return [o.id for o in organisations]


# --- the brute-force count ------------------------------------------------------------------

def hours_of(course: Course) -> float:
    return sum((s.ends_at - s.starts_at).total_seconds() for s in course.sessions) / 3600


def figures(registrations: Iterable[Registration]) -> Figures:
    result = Figures()
    for registration in registrations:
        result.registrations += 1
        if registration.state == State.ATTENDED:
            result.attended += 1
            result.hours += hours_of(registration.course)
        elif registration.state == State.NO_SHOW:
            result.no_shows += 1
        elif registration.state == State.CANCELLED:
            result.cancellations += 1
        if registration.queued_at is not None and registration.fee_ore is None:
            result.waiting_only += 1
        if fees.is_charged(registration):
            result.fees_ore += registration.fee_ore
    return result


def grouped(registrations, key: Callable[[Registration], object]) -> dict[object, Figures]:
    groups = defaultdict(list)
    for registration in registrations:
        groups[key(registration)].append(registration)
    return {name: figures(items) for name, items in groups.items()}


def _next_midnight(day: date) -> datetime:
    following = day + timedelta(days=1)
    return oslo(following.year, following.month, following.day)


def in_period(course: Course, first: date, last: date) -> bool:
    starts = oslo(first.year, first.month, first.day)
    return (course.state in COUNTED and course.starts_at is not None
            and starts <= course.starts_at < _next_midnight(last))


def in_scope(registration: Registration, scope: Scope) -> bool:
    if scope.kind == "host":
        return registration.course.organisation_id == scope.organisation_id
    if scope.kind == "employer":
        return registration.employer_organisation_id == scope.organisation_id
    return True


def counted(everything, scope, first, last) -> list[Registration]:
    return [r for r in everything if r.state != State.PENDING and in_scope(r, scope)
            and in_period(r.course, first, last)]


def a_year_before(day: date) -> date:
    return date(day.year - 1, day.month, min(day.day, 28 if day.month == 2 else 31))


def month_of(course: Course) -> date:
    return to_local(course.starts_at).date().replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


# --- comparing -----------------------------------------------------------------------------

def check(actual: Figures, expected: Figures, where: str) -> None:
    got = {name: getattr(actual, name) for name in COUNTS}
    want = {name: getattr(expected, name) for name in COUNTS}
    assert got == want, where
    # Course hours are rounded to 1/100 hour (an 80-minute session is 1.33 hours).
    assert actual.hours == pytest.approx(expected.hours, abs=0.005 * expected.attended + 1e-6), \
        where


def check_named(actual: list[tuple[str, Figures]], expected: dict[str, Figures],
                where: str) -> None:
    names = [name for name, _figures in actual]
    assert len(names) == len(set(names)), f"{where}: a name twice: {names}"
    assert sorted(names) == sorted(expected), where
    for name, result in actual:
        check(result, expected[name], f"{where}: {name}")
    order = [(-result.registrations, name.lower()) for name, result in actual]
    assert order == sorted(order), f"{where}: not most registrations first"


def check_report(result: Report, everything, courses, scope, first, last) -> None:
    where = f"{scope} {first}–{last}"
    now = counted(everything, scope, first, last)
    earlier = (a_year_before(first), a_year_before(last))
    before = counted(everything, scope, *earlier)
    check(result.totals, figures(now), f"{where} totals")
    check(result.previous, figures(before), f"{where} a year earlier")

    if scope.kind == "employer":  # the courses its people took part in
        expected_courses = {r.course_id for r in now}
    else:
        expected_courses = {c.id for c in courses if in_period(c, first, last) and (
            scope.kind == "region" or c.organisation_id == scope.organisation_id)}
    assert result.course_count == len(expected_courses), f"{where} course count"

    months_now, months_before = grouped(now, lambda r: month_of(r.course)), \
        grouped(before, lambda r: month_of(r.course))
    assert [month for month, _n, _b in result.months] == months_between(first, last), where
    for month, this, previous in result.months:
        check(this, months_now.get(month, Figures()), f"{where} month {month}")
        check(previous, months_before.get(month.replace(year=month.year - 1), Figures()),
              f"{where} month {month} a year earlier")
    assert set(months_now) <= set(months_between(first, last)), where

    check_named(result.by_category, grouped(now, lambda r: r.course.category.name
                                            if r.course.category else _("No category")),
                f"{where} by category")
    check_named(result.by_service_area, grouped(
        now, lambda r: r.course.service_area.name if r.course.service_area
        else _("No service area")), f"{where} by service area")

    per_course = grouped(now, lambda r: r.course_id)
    assert sorted(facts.id for facts, _f in result.by_course) == sorted(per_course), where
    for facts, this in result.by_course:
        course = db.session.get(Course, facts.id)
        assert (facts.title, facts.host_id, facts.starts_at) == (
            course.title, course.organisation_id, course.starts_at), where
        assert (facts.category, facts.service_area) == (
            course.category.name if course.category else None,
            course.service_area.name if course.service_area else None), where
        assert facts.internal == (course.visibility == Visibility.INTERNAL), where
        assert facts.hours == pytest.approx(hours_of(course), abs=0.005), where
        check(this, per_course[facts.id], f"{where} course {facts.id}")
    order = [(-f.registrations, c.starts_at, c.id) for c, f in result.by_course]
    assert order == sorted(order), f"{where}: courses not most registrations first"

    guests = _("Guests and people without an employer")
    by_employer = grouped(now, lambda r: r.employer.name if r.employer else guests)
    by_host = grouped(now, lambda r: r.course.organisation.name)
    check_named(result.by_employer, by_employer if scope.kind != "employer" else {},
                f"{where} by employer")
    check_named(result.by_host, by_host if scope.kind != "host" else {}, f"{where} by host")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_statistics_are_the_brute_force_count(app, seed):
    organisation_ids = populate(seed)
    everything = list(db.session.scalars(select(Registration)))
    courses = list(db.session.scalars(select(Course)))
    scopes = [Scope("region")] + [Scope(kind, org_id) for org_id in organisation_ids
                                  for kind in ("host", "employer")]
    seen = Figures()
    for first, last in PERIODS:
        for scope in scopes:
            result = services.build(db.session, scope, first, last)
            check_report(result, everything, courses, scope, first, last)
            if scope.kind == "region":
                for name in COUNTS:
                    setattr(seen, name, getattr(seen, name) + getattr(result.totals, name))
    # The data exercises every figure.
    assert all(getattr(seen, name) > 0 for name in COUNTS), seen


def test_the_edge_cases_fall_in_their_oslo_month(app):
    """The course at 00:30 on 1 March (28 February in UTC) is in March and in a period
    from 1 March, the one at 00:30 on 1 November not in a period to 31 October; the
    sessions across the changes of time last six and four hours (by the clock, not the
    wall: 23:00–04:00 either way)."""
    populate(seed=4, courses=0)
    region = Scope("region")

    def starts_and_hours(first: date, last: date) -> dict[datetime, float]:
        return {to_local(facts.starts_at).replace(tzinfo=None): facts.hours
                for facts, _sums in queries.per_course(db.session, region,
                                                       *bounds(first, last))}

    march = starts_and_hours(date(2025, 3, 1), date(2025, 3, 31))
    october = starts_and_hours(date(2025, 10, 1), date(2025, 10, 31))
    february = starts_and_hours(date(2025, 2, 1), date(2025, 2, 28))
    assert datetime(2025, 3, 1, 0, 30) in march
    assert datetime(2025, 3, 1, 0, 30) not in february
    assert march[datetime(2025, 3, 29, 23)] == 4.0
    assert datetime(2025, 11, 1, 0, 30) not in october
    assert datetime(2025, 10, 31, 23, 30) in october
    assert october[datetime(2025, 10, 25, 23)] == 9.0  # six hours, and three a week later
    report = services.build(db.session, region, date(2025, 3, 1), date(2025, 3, 1))
    assert [facts.starts_at for facts, _f in report.by_course] == [oslo(2025, 3, 1, 0, 30)]
    assert [month for month, _now, _before in report.months] == [date(2025, 3, 1)]


@pytest.mark.parametrize("day", [time(0, 30), time(23, 30)])
def test_a_course_at_the_edge_of_a_month_is_counted_once(app, day):
    organisation = OrganisationFactory()
    start = datetime.combine(date(2025, 3, 1) if day.hour == 0 else date(2025, 2, 28), day,
                             tzinfo=OSLO).astimezone(UTC)
    course = Course(organisation_id=organisation.id, title="Kant", capacity=5,
                    state=CourseState.PUBLISHED, starts_at=start,
                    ends_at=start + timedelta(hours=1))
    course.sessions = [CourseSession(organisation_id=organisation.id, starts_at=start,
                                     ends_at=start + timedelta(hours=1))]
    db.session.add(course)
    db.session.add(Registration(organisation_id=organisation.id, course=course, name="A",
                                email="a@example.org", state=State.ATTENDED))
    db.session.commit()
    february = services.build(db.session, Scope("region"), date(2025, 2, 1),
                              date(2025, 2, 28))
    march = services.build(db.session, Scope("region"), date(2025, 3, 1), date(2025, 3, 31))
    both = services.build(db.session, Scope("region"), date(2025, 2, 1), date(2025, 3, 31))
    in_march = day.hour == 0
    assert (february.totals.attended, march.totals.attended) == (
        (0, 1) if in_march else (1, 0))
    assert [(m.month, f.attended) for m, f, _b in both.months] == (
        [(2, 0), (3, 1)] if in_march else [(2, 1), (3, 0)])
    assert both.totals.hours == 1.0
