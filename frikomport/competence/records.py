"""What people hold: records from attended courses, validity, and the state of a holding.

A person *holds* a competence on a day until the latest ``valid_until`` of their approved
records of it that are valid from that day or earlier (a record without expiry holds it
for good). Attending a course that grants it adds a record valid from the course's last
day for the competence's validity, so a renewal course extends the holding, from its last
day on. Taking attendance back removes the records that attendance made.

All dates are days in Europe/Oslo; a record is valid through its ``valid_until`` day.
"""

from __future__ import annotations

import calendar
import enum
from datetime import date, datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from frikomport.competence.models import (
    Competence,
    CompetenceRecord,
    RecordSource,
    RecordStatus,
)
from frikomport.courses.models import Course
from frikomport.db import utcnow
from frikomport.registrations.models import Registration
from frikomport.timeutil import OSLO

EXPIRING_DAYS = 90  # "expiring" in the matrix: valid, but for at most this many days more
FOREVER = date(9999, 12, 31)  # stands for "no expiry" where SQL needs a date to compare


class Standing(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid for at most EXPIRING_DAYS more
    EXPIRED = "expired"
    MISSING = "missing"


def today(now: datetime | None = None) -> date:
    """The date in Oslo now (what "valid today" means)."""
    return (now or utcnow()).astimezone(OSLO).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the 31st (or 29 February) becomes the month's last."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until_for(competence: Competence, valid_from: date) -> date | None:
    if competence.validity_months is None:
        return None
    return add_months(valid_from, competence.validity_months)


def standing(valid_until: date | None, on: date, held: bool = True,
             expiring_days: int = EXPIRING_DAYS) -> Standing:
    """A holding's state on day ``on``: held through ``valid_until`` (None: for good)."""
    if not held:
        return Standing.MISSING
    if valid_until is None:
        return Standing.VALID
    if valid_until < on:
        return Standing.EXPIRED
    if (valid_until - on).days <= expiring_days:
        return Standing.EXPIRING
    return Standing.VALID


def latest(on: date, user_ids=None, competence_ids=None) -> Select:
    """Rows ``(user_id, competence_id, until)``: what each person holds on day ``on``, the
    latest ``valid_until`` (FOREVER: no expiry) of their approved records valid from that
    day or earlier, expired or not. A record made when a course's first day was marked
    counts only from the course's last day. The one definition of holding: the matrix,
    the demand and the reminders all read it. ``user_ids`` and ``competence_ids`` are
    ids or a SELECT of them (None: all)."""
    record = CompetenceRecord
    statement = (select(record.user_id, record.competence_id,
                        func.max(func.coalesce(record.valid_until, FOREVER)).label("until"))
                 .where(record.status == RecordStatus.APPROVED, record.valid_from <= on)
                 .group_by(record.user_id, record.competence_id))
    if user_ids is not None:
        statement = statement.where(record.user_id.in_(user_ids))
    if competence_ids is not None:
        statement = statement.where(record.competence_id.in_(competence_ids))
    return statement


def holdings(session: Session, user_ids, competence_ids=None, on: date | None = None
             ) -> dict[tuple[int, int], date | None]:
    """``(user_id, competence_id) → valid_until`` (None: no expiry) of what these people
    hold on day ``on`` (default: today), expired or not; a pair that is absent was not
    held by then (see :func:`latest`). One GROUP BY."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    statement = latest(on or today(), user_ids,
                       None if competence_ids is None else list(competence_ids))
    return {(user_id, competence_id): as_date(until)
            for user_id, competence_id, until in session.execute(statement)}


def as_date(value) -> date | None:
    """``max(coalesce(date, …))`` comes back as a string from SQLite."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return None if value == FOREVER else value


def course_last_day(course: Course) -> date | None:
    """The Oslo date of the course's end (records are valid from it)."""
    ends = course.ends_at or course.starts_at
    return ends.astimezone(OSLO).date() if ends else None


def grant_for_attendance(session: Session, registration: Registration,
                         competences: list[Competence]) -> list[CompetenceRecord]:
    """Record what attending the registration's course grants (members only: a guest
    has no account to hold it). Adds rows only, so marking 700 people reads nothing."""
    course = registration.course
    valid_from = course_last_day(course) or today()
    if registration.user_id is None:
        return []
    records = [CompetenceRecord(
        user_id=registration.user_id, competence_id=competence.id,
        source=RecordSource.COURSE, status=RecordStatus.APPROVED, valid_from=valid_from,
        valid_until=valid_until_for(competence, valid_from),
        registration_id=registration.id, title=course.title[:200],
        issuer=course.organisation.name[:200]) for competence in competences]
    session.add_all(records)
    return records


def withdraw_for_registration(session: Session, registration: Registration) -> None:
    """Attendance taken back: the records it made go."""
    session.execute(delete(CompetenceRecord).where(
        CompetenceRecord.registration_id == registration.id,
        CompetenceRecord.source == RecordSource.COURSE))
