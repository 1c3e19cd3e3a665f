"""Registration rules: registering, confirming, cancelling, approving and attendance.

Every change that can affect seats takes the course lock first and then re-reads the
registration, so decisions are made on committed, current numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from frikomport.accounts.models import User
from frikomport.billing import fees
from frikomport.courses.locking import lock_course
from frikomport.courses.models import Course, CourseState
from frikomport.db import utcnow
from frikomport.errors import DomainError, NotFoundError
from frikomport.inputs import single_line
from frikomport.permissions import Permission, can_view_course, ensure, ensure_can_view_course
from frikomport.registrations import emails, engine, notes, tokens
from frikomport.registrations.models import (
    ENDED_STATES,
    SEATED_STATES,
    Registration,
    RegistrationState,
)
from frikomport.tenancy.models import Organisation

State = RegistrationState


# Rules ---------------------------------------------------------------------------------

def registration_closed_reason(course: Course, now: datetime) -> str | None:
    """Why nobody can register now, or None when registration is open."""
    if course.state != CourseState.PUBLISHED:
        return _("The course is not open for registration.")
    if course.registration_opens_at and now < course.registration_opens_at:
        return _("Registration has not opened yet.")
    closes = course.registration_closes_at or course.starts_at
    if closes and now >= closes:
        return _("Registration has closed.")
    return None


def _ensure_open(course: Course, now: datetime) -> None:
    if reason := registration_closed_reason(course, now):
        raise DomainError(reason)


def cancellation_closed(course: Course, now: datetime) -> bool:
    """Participants cancel themselves until the deadline (default: the course start)."""
    deadline = course.cancellation_deadline or course.starts_at
    return deadline is not None and now >= deadline


def _active_registration(session: Session, course_id: int, *, user_id: int | None = None,
                         email: str | None = None) -> Registration | None:
    """An active registration for the course by this user or with this e-mail address
    (a guest's that is not confirmed yet does not count: it blocks nobody)."""
    same_person = []
    if user_id is not None:
        same_person.append(Registration.user_id == user_id)
    if email is not None:
        same_person.append(Registration.email == email)
    return session.scalar(select(Registration).where(
        Registration.course_id == course_id, Registration.state.not_in(ENDED_STATES),
        or_(Registration.user_id.is_not(None), Registration.email_confirmed_at.is_not(None)),
        or_(*same_person)).limit(1))


def _locked_registration(session: Session, registration_id: int) -> Registration:
    """Lock the registration's course, then re-read the registration."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFoundError()
    lock_course(session, registration.course_id)
    session.refresh(registration)
    return registration


def _announce(session: Session, registration: Registration) -> None:
    """Tell the person what their new registration's state means."""
    if registration.state == State.CONFIRMED:
        emails.confirmed(session, registration)
    elif registration.state == State.WAITLISTED:
        emails.waitlisted(session, registration, engine.waiting_position(session, registration))
    elif registration.state == State.PENDING:
        emails.awaiting_approval(session, registration)


def _place_or_await_approval(session: Session, registration: Registration, actor,
                             now: datetime, note: str) -> None:
    """Decide the state (counting seats first, so an autoflush cannot insert a stateless
    new row), store it, and tell the person."""
    if registration.course.requires_approval:
        engine.transition(session, registration, State.PENDING, actor,
                          note or notes.AWAITING_APPROVAL)
    else:
        engine.place(session, registration, actor, now, note)
    _store(session, registration)
    _announce(session, registration)


def _store(session: Session, registration: Registration) -> None:
    """Insert now: e-mails need the id (signed links, waiting-list position)."""
    session.add(registration)
    session.flush()


def _promote_waiting(session: Session, course: Course, actor, now: datetime) -> None:
    for promoted in engine.fill_free_seats(session, course, actor, now):
        emails.confirmed(session, promoted, promoted=True)


# Registering -----------------------------------------------------------------------------

def _reference(course: Course, reference: str) -> str:
    """The person's invoice reference: kept only when the course costs something."""
    return "" if course.is_free else single_line(reference)[:100]


def _comment(course: Course, comment: str) -> str:
    """What is stored of the comment: nothing when the organiser does not ask for one
    (a hand-made request may still send it)."""
    return comment.strip()[:2000] if course.ask_for_comment else ""


def register_member(session: Session, user, course_id: int, comment: str = "",
                    own_reference: str = "") -> Registration:
    """One-click registration for a logged-in member of any organisation.

    Everything about the person is checked (and loaded) before the course is locked: in a
    rush, everyone else waits for as long as the lock is held."""
    employer = _employer_of(user)
    now = utcnow()
    course = lock_course(session, course_id)
    ensure_can_view_course(user, course)
    _ensure_open(course, now)
    if _active_registration(session, course.id, user_id=user.id, email=user.email):
        raise DomainError(_("You are already registered for this course."))
    registration = Registration(
        organisation_id=course.organisation_id, course=course, user=user, name=user.name,
        email=user.email, phone=user.phone, employer_organisation_id=employer.id,
        employer_name=employer.name, comment=_comment(course, comment),
        own_reference=_reference(course, own_reference))
    _place_or_await_approval(session, registration, user, now, "")
    return registration


def _employer_of(user) -> Organisation:
    """The organisation a member registers for; refuses people who may not register."""
    if user.email_confirmed_at is None:
        raise DomainError(_("Confirm your e-mail address before you register (see your "
                            "profile to get a new link)."))
    if not user.memberships:
        raise DomainError(_("Only employees of an organisation in the portal can register "
                            "with an account."))
    return user.employer


def register_guest(session: Session, course_id: int, *, name: str, email: str, phone: str,
                   employer_name: str, comment: str = "",
                   own_reference: str = "") -> Registration | None:
    """A visitor without an account; counts only after the e-mailed link is opened.

    The visitor is answered the same whether or not the address is registered already
    (who is registered for a course is nobody else's business); an address that is
    registered is told so by e-mail instead.
    """
    now = utcnow()
    course = lock_course(session, course_id)
    if not (course.allow_guests and can_view_course(None, course)):
        raise NotFoundError()
    _ensure_open(course, now)
    email = email.strip().lower()
    if existing := _active_registration(session, course.id, email=email):
        emails.already_registered(session, existing)
        return None
    registration = Registration(
        organisation_id=course.organisation_id, course=course, name=name.strip(),
        email=email, phone=phone.strip(), employer_name=employer_name.strip(),
        comment=_comment(course, comment), own_reference=_reference(course, own_reference))
    engine.transition(session, registration, State.PENDING, None,
                      notes.AWAITING_EMAIL_CONFIRMATION)
    _store(session, registration)
    emails.guest_confirmation(session, registration)
    return registration


def confirm_guest(session: Session, token: str) -> Registration:
    """Count a guest's registration once they open the link (repeat clicks are harmless)."""
    data = tokens.load(tokens.GUEST_CONFIRM, token,
                       current_app.config["GUEST_CONFIRM_HOURS"] * 3600)
    if data is None:
        raise DomainError(_("The confirmation link is invalid or has expired."))
    registration = _locked_registration(session, data["rid"])
    if registration.email != data.get("email"):
        raise DomainError(_("The confirmation link is invalid or has expired."))
    if registration.email_confirmed_at is not None or registration.state != State.PENDING:
        return registration
    now = utcnow()
    _ensure_open(registration.course, now)
    if _active_registration(session, registration.course_id, email=registration.email):
        raise DomainError(_("This e-mail address is already registered for the course."))
    registration.email_confirmed_at = now
    _place_or_await_approval(session, registration, None, now, notes.EMAIL_CONFIRMED)
    return registration


# Cancelling ------------------------------------------------------------------------------

def _cancel(session: Session, registration: Registration, actor, *, by_organiser: bool,
            note: str = "") -> None:
    now = utcnow()
    if not registration.is_active:
        raise DomainError(_("This registration is already cancelled."))
    if registration.state in (State.ATTENDED, State.NO_SHOW):
        raise DomainError(_("Attendance has been recorded; the registration cannot be "
                            "cancelled."))
    if not by_organiser and cancellation_closed(registration.course, now):
        raise DomainError(_("The deadline for cancelling has passed. Contact the organiser."))
    held_seat = registration.state in SEATED_STATES
    registration.charged_cancellation = (not by_organiser
                                         and fees.late_cancellation(registration, now))
    engine.transition(session, registration, State.CANCELLED, actor,
                      note or (notes.CANCELLED_BY_ORGANISER if by_organiser
                               else notes.CANCELLED_BY_PARTICIPANT))
    emails.cancelled(session, registration, by_organiser)
    if held_seat:
        _promote_waiting(session, registration.course, actor, now)


def cancel_for_leaving(session: Session, registration_id: int, actor) -> int:
    """Cancel an active registration because its person's account is being deleted (no
    deadline applies; the waiting list moves up as for any cancellation). 1 if done."""
    registration = _locked_registration(session, registration_id)
    if not registration.is_active or registration.state in (State.ATTENDED, State.NO_SHOW):
        return 0
    _cancel(session, registration, actor, by_organiser=True,
            note=notes.ACCOUNT_DELETED)
    return 1


def own_registration(session: Session, user, registration_id: int) -> Registration:
    """The user's own registration (someone else's is "not found", never "forbidden")."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.user_id != user.id:
        raise NotFoundError()
    return registration


def cancel_own(session: Session, user, registration_id: int) -> Registration:
    registration = _locked_registration(session, registration_id)
    if registration.user_id != user.id:
        raise NotFoundError()
    _cancel(session, registration, user, by_organiser=False)
    return registration


def registration_for_cancel_link(session: Session, token: str) -> Registration:
    data = tokens.load(tokens.CANCEL, token)
    registration = session.get(Registration, data["rid"]) if data else None
    if registration is None or registration.email != data.get("email"):
        raise DomainError(_("The link is invalid."))
    return registration


def cancel_by_link(session: Session, token: str) -> Registration:
    registration = registration_for_cancel_link(session, token)
    registration = _locked_registration(session, registration.id)
    _cancel(session, registration, registration.user, by_organiser=False,
            note=notes.CANCELLED_BY_LINK)
    return registration


# Organiser actions -----------------------------------------------------------------------

def _managed_registration(session: Session, actor, organisation: Organisation,
                          course_id: int, registration_id: int) -> Registration:
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    registration = _locked_registration(session, registration_id)
    if (registration.organisation_id != organisation.id
            or registration.course_id != course_id):
        raise NotFoundError()
    return registration


def cancel_by_organiser(session: Session, actor, organisation: Organisation, course_id: int,
                        registration_id: int) -> Registration:
    registration = _managed_registration(session, actor, organisation, course_id,
                                         registration_id)
    _cancel(session, registration, actor, by_organiser=True)
    return registration


def approve(session: Session, actor, organisation: Organisation, course_id: int,
            registration_id: int) -> Registration:
    registration = _managed_registration(session, actor, organisation, course_id,
                                         registration_id)
    if registration.state != State.PENDING:
        raise DomainError(_("Only registrations awaiting approval can be approved."))
    if registration.is_guest and registration.email_confirmed_at is None:
        raise DomainError(_("The guest has not confirmed the e-mail address yet."))
    engine.place(session, registration, actor, utcnow(), "approved by the organiser")
    _announce(session, registration)
    return registration


def reject(session: Session, actor, organisation: Organisation, course_id: int,
           registration_id: int) -> Registration:
    registration = _managed_registration(session, actor, organisation, course_id,
                                         registration_id)
    if registration.state != State.PENDING:
        raise DomainError(_("Only registrations awaiting approval can be rejected."))
    engine.transition(session, registration, State.REJECTED, actor, "rejected by the organiser")
    emails.rejected(session, registration)
    return registration


def promote(session: Session, actor, organisation: Organisation, course_id: int,
            registration_id: int) -> Registration:
    """Move a specific person off the waiting list (the organiser may skip the queue)."""
    registration = _managed_registration(session, actor, organisation, course_id,
                                         registration_id)
    return promote_locked(session, actor, registration)


def promote_locked(session: Session, actor, registration: Registration) -> Registration:
    """:func:`promote` for a registration whose course the caller has locked."""
    if registration.state != State.WAITLISTED:
        raise DomainError(_("Only people on the waiting list can be moved up."))
    course = registration.course
    if course.confirmed_count >= course.capacity:
        raise DomainError(_("There is no free seat. Raise the number of seats first."))
    engine.transition(session, registration, State.CONFIRMED, actor,
                      "moved from the waiting list by the organiser")
    emails.confirmed(session, registration, promoted=True)
    return registration


def mark_attendance(session: Session, actor, organisation: Organisation, course_id: int,
                    registration_id: int, attended: bool) -> Registration:
    registration = _managed_registration(session, actor, organisation, course_id,
                                         registration_id)
    return record_attendance(session, actor, registration, attended)


def record_attendance(session: Session, actor, registration: Registration,
                      attended: bool) -> Registration:
    """:func:`mark_attendance` for a registration whose course the caller has locked."""
    if registration.state not in SEATED_STATES:
        raise DomainError(_("Attendance can only be recorded for people with a seat."))
    new = State.ATTENDED if attended else State.NO_SHOW
    if registration.state != new:
        engine.transition(session, registration, new, actor)
    return registration


def email_participants(session: Session, actor, course: Course, *, subject: str, body: str,
                       include_waitlisted: bool) -> int:
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    states = [*SEATED_STATES, *([State.WAITLISTED] if include_waitlisted else [])]
    recipients = list(session.scalars(select(Registration).where(
        Registration.course_id == course.id, Registration.state.in_(states))))
    for registration in recipients:
        emails.message_from_organiser(session, registration, subject.strip(), body.strip())
    return len(recipients)


# Reading ---------------------------------------------------------------------------------

def my_registrations(session: Session, user) -> list[Registration]:
    return list(session.scalars(
        select(Registration).join(Registration.course)
        .where(Registration.user_id == user.id)
        .options(joinedload(Registration.course).joinedload(Course.organisation),
                 joinedload(Registration.course).selectinload(Course.sessions))
        .order_by(Course.starts_at.desc().nulls_last(), Registration.id.desc())).unique())


def registration_of(session: Session, user, course: Course) -> Registration | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return _active_registration(session, course.id, user_id=user.id)


# Scheduled jobs ------------------------------------------------------------------------

def send_reminders(session: Session, days_before: int, now: datetime | None = None) -> int:
    """Remind everyone with a seat whose course starts within ``days_before`` days."""
    now = now or utcnow()
    due = session.scalars(
        select(Registration).join(Registration.course)
        .where(Registration.state == State.CONFIRMED, Registration.reminder_sent_at.is_(None),
               Course.state == CourseState.PUBLISHED, Course.starts_at > now,
               Course.starts_at <= now + timedelta(days=days_before))
        .with_for_update(of=Registration, skip_locked=True))
    count = 0
    for registration in due:
        emails.reminder(session, registration)
        registration.reminder_sent_at = now
        count += 1
    return count


def release_reserved_seats(session: Session, now: datetime | None = None) -> int:
    """Promote waiting people into seats whose reservation for the host has run out."""
    now = now or utcnow()
    course_ids = list(session.scalars(select(Course.id).where(
        Course.state == CourseState.PUBLISHED, Course.reserved_seats > 0,
        Course.reserved_until <= now, Course.waitlist_count > 0,
        Course.confirmed_count < Course.capacity)))
    promoted = 0
    for course_id in course_ids:
        course = lock_course(session, course_id)
        for registration in engine.fill_free_seats(session, course, None, now):
            emails.confirmed(session, registration, promoted=True)
            promoted += 1
    return promoted


def on_course_cancelled(course: Course, *, session: Session, reason: str, **_kwargs) -> None:
    """Tell everyone still registered that the course is cancelled."""
    for registration in session.scalars(select(Registration).where(
            Registration.course_id == course.id,
            Registration.state.in_((State.PENDING, State.WAITLISTED, *SEATED_STATES)))):
        emails.course_cancelled(session, registration, reason)


def on_course_changed(course: Course, *, session: Session, **_kwargs) -> None:
    """More seats (or an ended reservation) may let people off the waiting list."""
    if course.state == CourseState.PUBLISHED and course.waitlist_count:
        _promote_waiting(session, course, None, utcnow())


def user_for_calendar_token(session: Session, token: str) -> User:
    user = session.scalar(select(User).where(User.calendar_token == token)) if token else None
    if user is None or not user.is_enabled:
        raise NotFoundError()
    return user
