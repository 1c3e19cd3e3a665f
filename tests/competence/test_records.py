"""Attendance becomes competence: records with the right validity, renewal, withdrawal,
and the standing of a holding around its boundaries (Oslo dates)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from frikomport.competence import records
from frikomport.competence.models import (
    Certificate,
    CompetenceRecord,
    CourseCompetence,
    RecordSource,
    RecordStatus,
)
from frikomport.competence.records import Standing
from frikomport.extensions import db
from frikomport.registrations import services
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as State
from frikomport.tenancy.models import Role
from frikomport.timeutil import local_to_utc
from tests.competence.builders import competence
from tests.factories import CourseFactory, member, register


def _course_on(organisation, day: date, *competences, hours=(9, 15)):
    """A course held on ``day`` (Oslo), granting ``competences``."""
    course = CourseFactory(organisation=organisation, sessions=[
        (local_to_utc(day, time(hours[0])), local_to_utc(day, time(hours[1])))])
    db.session.add_all(CourseCompetence(organisation_id=organisation.id, course_id=course.id,
                                        competence_id=c.id) for c in competences)
    db.session.commit()
    return course


def _attend(organiser, organisation, course, person):
    registration = register(course, person)
    services.mark_attendance(db.session, organiser, organisation, course.id,
                             registration.id, attended=True)
    db.session.commit()
    return registration


def _records_of(person) -> list[CompetenceRecord]:
    return list(db.session.scalars(select(CompetenceRecord)
                                   .where(CompetenceRecord.user_id == person.id)
                                   .order_by(CompetenceRecord.competence_id)))


@pytest.fixture
def organiser(kongsberg):
    return member(kongsberg, Role.ORGANISER)


def test_attending_records_each_granted_competence_from_the_last_day(kongsberg, organiser):
    first_aid = competence("HLR", months=12)
    secrecy = competence("Taushetsplikt", months=None)
    # Two days, the last ending at 23:30 Oslo time on 31 March: that is 1 April in UTC
    # (summer time), but the record counts from the Oslo day, 31 March.
    course = CourseFactory(organisation=kongsberg, sessions=[
        (local_to_utc(date(2027, 3, 30), time(9)), local_to_utc(date(2027, 3, 30), time(15))),
        (local_to_utc(date(2027, 3, 31), time(20)), local_to_utc(date(2027, 3, 31),
                                                                 time(23, 30)))])
    db.session.add_all(CourseCompetence(organisation_id=kongsberg.id, course_id=course.id,
                                        competence_id=c.id) for c in (first_aid, secrecy))
    db.session.commit()
    assert course.ends_at.astimezone(UTC).date() == date(2027, 3, 31)  # 21:30 UTC
    person = member(kongsberg)
    registration = _attend(organiser, kongsberg, course, person)
    by_competence = {r.competence_id: r for r in _records_of(person)}
    assert set(by_competence) == {first_aid.id, secrecy.id}
    hlr = by_competence[first_aid.id]
    assert (hlr.valid_from, hlr.valid_until) == (date(2027, 3, 31), date(2028, 3, 31))
    assert by_competence[secrecy.id].valid_until is None
    assert {r.source for r in by_competence.values()} == {RecordSource.COURSE}
    assert {r.status for r in by_competence.values()} == {RecordStatus.APPROVED}
    assert {r.registration_id for r in by_competence.values()} == {registration.id}
    assert records.holdings(db.session, [person.id], on=date(2027, 3, 31)) == {
        (person.id, first_aid.id): date(2028, 3, 31), (person.id, secrecy.id): None}


def test_a_course_granting_nothing_records_nothing_but_still_certifies(kongsberg, organiser):
    course = _course_on(kongsberg, date(2027, 5, 3))
    person = member(kongsberg)
    registration = _attend(organiser, kongsberg, course, person)
    assert _records_of(person) == []
    certificate = db.session.scalar(select(Certificate).where(
        Certificate.registration_id == registration.id))
    assert (certificate.name, certificate.course_title) == (person.name, course.title)
    assert certificate.teaching_minutes == 6 * 60 and certificate.competences == ""


def test_renewal_extends_the_holding_and_an_older_course_does_not_shorten_it(
        kongsberg, organiser):
    first_aid = competence("HLR", months=12)
    person = member(kongsberg)
    _attend(organiser, kongsberg, _course_on(kongsberg, date(2026, 1, 10), first_aid), person)
    _attend(organiser, kongsberg, _course_on(kongsberg, date(2026, 12, 20), first_aid), person)
    _attend(organiser, kongsberg, _course_on(kongsberg, date(2026, 6, 1), first_aid), person)
    assert len(_records_of(person)) == 3
    assert records.holdings(db.session, [person.id], on=date(2026, 12, 20)) == {
        (person.id, first_aid.id): date(2027, 12, 20)}
    # The day before the renewal course, the summer's course is what they hold.
    assert records.holdings(db.session, [person.id], on=date(2026, 12, 19)) == {
        (person.id, first_aid.id): date(2027, 6, 1)}


def test_attendance_marked_before_the_course_ends_counts_from_its_last_day(
        kongsberg, organiser):
    """Marked on day 1 of 3: the records exist, but nothing is held until the last day."""
    first_aid = competence("HLR", months=12)
    person = member(kongsberg)
    on = records.today()
    course = CourseFactory(organisation=kongsberg, sessions=[
        (local_to_utc(day, time(9)), local_to_utc(day, time(15)))
        for day in (on, on + timedelta(days=1), on + timedelta(days=2))])
    db.session.add(CourseCompetence(organisation_id=kongsberg.id, course_id=course.id,
                                    competence_id=first_aid.id))
    db.session.commit()
    _attend(organiser, kongsberg, course, person)
    [record] = _records_of(person)
    assert record.valid_from == on + timedelta(days=2)
    assert records.holdings(db.session, [person.id]) == {}
    assert records.holdings(db.session, [person.id], on=on + timedelta(days=1)) == {}
    assert records.holdings(db.session, [person.id], on=on + timedelta(days=2)) == {
        (person.id, first_aid.id): records.add_months(on + timedelta(days=2), 12)}


def test_taking_attendance_back_withdraws_records_and_revokes_the_certificate(
        kongsberg, organiser):
    first_aid = competence("HLR", months=24)
    person = member(kongsberg)
    course = _course_on(kongsberg, date(2026, 2, 28), first_aid)
    registration = _attend(organiser, kongsberg, course, person)
    first = db.session.scalar(select(Certificate).where(
        Certificate.registration_id == registration.id))
    services.mark_attendance(db.session, organiser, kongsberg, course.id, registration.id,
                             attended=False)
    db.session.commit()
    assert _records_of(person) == []
    db.session.refresh(first)
    assert first.revoked_at is not None and first.registration_id is None
    # Marked attended again: new records and a new certificate with a new code.
    services.mark_attendance(db.session, organiser, kongsberg, course.id, registration.id,
                             attended=True)
    db.session.commit()
    assert [r.valid_until for r in _records_of(person)] == [date(2028, 2, 28)]
    again = db.session.scalar(select(Certificate).where(
        Certificate.registration_id == registration.id))
    assert again.revoked_at is None and again.code != first.code


def test_guests_get_a_certificate_but_hold_nothing(kongsberg, organiser):
    first_aid = competence("HLR", months=12)
    course = _course_on(kongsberg, date(2027, 1, 5), first_aid)
    guest = Registration(organisation_id=kongsberg.id, course=course, name="Gunn Gjest",
                         email="gunn@example.org", state=State.CONFIRMED,
                         email_confirmed_at=course.created_at)
    course.confirmed_count += 1
    db.session.add(guest)
    db.session.commit()
    services.mark_attendance(db.session, organiser, kongsberg, course.id, guest.id,
                             attended=True)
    db.session.commit()
    assert db.session.scalars(select(CompetenceRecord)).all() == []
    certificate = db.session.scalar(select(Certificate))
    assert (certificate.name, certificate.user_id) == ("Gunn Gjest", None)


def test_pending_and_rejected_records_do_not_count(kongsberg):
    first_aid = competence("HLR", months=12)
    person = member(kongsberg)
    for status in (RecordStatus.PENDING, RecordStatus.REJECTED):
        db.session.add(CompetenceRecord(
            user_id=person.id, competence_id=first_aid.id, source=RecordSource.EXTERNAL,
            status=status, valid_from=date(2027, 1, 1), valid_until=date(2028, 1, 1)))
    db.session.commit()
    assert records.holdings(db.session, [person.id]) == {}


@pytest.mark.parametrize(("months", "start", "expected"), [
    (12, date(2027, 1, 31), date(2028, 1, 31)),
    (1, date(2027, 1, 31), date(2027, 2, 28)),
    (12, date(2028, 2, 29), date(2029, 2, 28)),
    (48, date(2028, 2, 29), date(2032, 2, 29)),
    (13, date(2027, 12, 15), date(2029, 1, 15)),
])
def test_months_are_added_in_the_calendar(months, start, expected):
    assert records.add_months(start, months) == expected


def _oslo(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(day, time(hour, minute))


def test_today_is_the_oslo_date():
    # 22:30 UTC on 31 March 2027 is 00:30 on 1 April in Oslo (summer time, +2).
    assert records.today(datetime(2027, 3, 31, 22, 30, tzinfo=UTC)) == date(2027, 4, 1)
    # 23:30 UTC on 31 December is 00:30 on New Year's Day (winter time, +1).
    assert records.today(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 1, 1)
    assert records.today(_oslo(date(2027, 6, 1), 23, 59)) == date(2027, 6, 1)


@pytest.mark.parametrize(("until", "expected"), [
    (date(2027, 3, 31), Standing.EXPIRED),        # ended yesterday (Oslo)
    (date(2027, 4, 1), Standing.EXPIRING),        # valid through today
    (date(2027, 6, 30), Standing.EXPIRING),       # 90 days left
    (date(2027, 7, 1), Standing.VALID),           # 91 days left
    (None, Standing.VALID),                       # no expiry
])
def test_standing_around_its_boundaries(until, expected):
    on = records.today(datetime(2027, 3, 31, 22, 30, tzinfo=UTC))  # 1 April in Oslo
    assert records.standing(until, on) == expected
    assert records.standing(until, on, held=False) == Standing.MISSING
