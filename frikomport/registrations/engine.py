"""Seat allocation: who gets a seat, who waits, and keeping the course's counters right.

Every function here expects the caller to hold the course lock
(:func:`frikomport.courses.locking.lock_course`) for the rest of the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frikomport.billing import fees
from frikomport.courses.models import Course
from frikomport.courses.signals import seats_changed
from frikomport.db import utcnow
from frikomport.registrations import notes
from frikomport.registrations.models import (
    SEATED_STATES,
    Registration,
    RegistrationEvent,
    RegistrationState,
)
from frikomport.registrations.signals import attendance_changed


def reserved_now(course: Course, now: datetime) -> int:
    """Seats still held back for the host organisation's own employees."""
    if course.reserved_seats and course.reserved_until and now < course.reserved_until:
        return course.reserved_seats
    return 0


def _host_seated(session: Session, course: Course) -> int:
    return session.scalar(select(func.count()).select_from(Registration).where(
        Registration.course_id == course.id, Registration.state.in_(SEATED_STATES),
        Registration.employer_organisation_id == course.organisation_id)) or 0


def _is_host(course: Course, registration: Registration) -> bool:
    return registration.employer_organisation_id == course.organisation_id


def _seat_free(course: Course, host_employee: bool, host_seated: int, reserved: int) -> bool:
    """The seat rule. Host employees may take any free seat. Others share the open seats:
    host employees fill the reserved seats first, and only their overflow counts against
    the open ones."""
    if course.confirmed_count >= course.capacity:
        return False
    if not reserved or host_employee:
        return True
    open_taken = (course.confirmed_count - host_seated) + max(0, host_seated - reserved)
    return open_taken < course.capacity - reserved


def has_seat_for(session: Session, course: Course, registration: Registration,
                 now: datetime) -> bool:
    """Is there a seat this person may take right now?"""
    reserved = reserved_now(course, now)
    host_employee = _is_host(course, registration)
    # Counting the host's seats is only needed when a reservation limits this person.
    host_seated = _host_seated(session, course) if reserved and not host_employee else 0
    return _seat_free(course, host_employee, host_seated, reserved)


def transition(session: Session, registration: Registration, new: RegistrationState,
               actor, note: str = "") -> None:
    """Change state, keep the course counters in step, fix the fee when a seat is
    given, and record who did it."""
    old = registration.state
    course = registration.course
    had_free_seats = course.confirmed_count < course.capacity
    course.confirmed_count += (new in SEATED_STATES) - (old in SEATED_STATES)
    course.waitlist_count += ((new == RegistrationState.WAITLISTED)
                              - (old == RegistrationState.WAITLISTED))
    if new == RegistrationState.WAITLISTED and registration.queued_at is None:
        registration.queued_at = utcnow()
    if new in SEATED_STATES:
        fees.fix_fee(registration)
    registration.state = new
    if (course.confirmed_count < course.capacity) != had_free_seats:
        seats_changed.send(course, session=session)
    session.add(RegistrationEvent(
        organisation_id=registration.organisation_id, registration=registration,
        actor_id=getattr(actor, "id", None), from_state=old.value if old else None,
        to_state=new.value, note=note[:300]))
    if RegistrationState.ATTENDED in (old, new) and old != new:
        attendance_changed.send(registration, session=session, actor=actor, previous=old)


def place(session: Session, registration: Registration, actor, now: datetime,
          note: str = "") -> RegistrationState:
    """Give a seat if there is one for this person, else a place on the waiting list."""
    seat = has_seat_for(session, registration.course, registration, now)
    transition(session, registration,
               RegistrationState.CONFIRMED if seat else RegistrationState.WAITLISTED,
               actor, note)
    return registration.state


def waiting_list(session: Session, course: Course) -> list[Registration]:
    return list(session.scalars(
        select(Registration)
        .where(Registration.course_id == course.id,
               Registration.state == RegistrationState.WAITLISTED)
        .order_by(Registration.queued_at, Registration.id)))


def fill_free_seats(session: Session, course: Course, actor,
                    now: datetime) -> list[Registration]:
    """Promote people from the waiting list, in order, while there are seats for them.

    The host's seats are counted once and kept up to date here, not queried again for
    every person waiting (this runs while the course is locked).
    """
    promoted = []
    reserved = reserved_now(course, now)
    host_seated = _host_seated(session, course) if reserved else 0
    for registration in waiting_list(session, course):
        if course.confirmed_count >= course.capacity:
            break
        host_employee = _is_host(course, registration)
        if _seat_free(course, host_employee, host_seated, reserved):
            transition(session, registration, RegistrationState.CONFIRMED, actor,
                       notes.PROMOTED)
            host_seated += host_employee
            promoted.append(registration)
    return promoted


def waiting_position(session: Session, registration: Registration) -> int:
    """1 for the first in line."""
    return (session.scalar(select(func.count()).select_from(Registration).where(
        Registration.course_id == registration.course_id,
        Registration.state == RegistrationState.WAITLISTED,
        (Registration.queued_at < registration.queued_at)
        | ((Registration.queued_at == registration.queued_at)
           & (Registration.id < registration.id)))) or 0) + 1
