"""Course rules: drafting, publishing, cancelling, copying and finishing courses."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.billing.fees import MAX_FEE_ORE
from frikomport.courses.attachments import copy_files
from frikomport.courses.locking import lock_course
from frikomport.courses.models import (
    Category,
    Course,
    CourseSession,
    CourseState,
    Location,
    ServiceArea,
    Visibility,
)
from frikomport.courses.signals import course_cancelled, course_changed
from frikomport.db import utcnow
from frikomport.errors import DomainError
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Organisation
from frikomport.tenancy.scoping import get_scoped

MAX_CAPACITY = 10_000


@dataclass
class CourseData:
    """What an organiser can edit; ids of vocabulary rows are checked against the tenant."""

    title: str
    capacity: int
    sessions: list[tuple[datetime, datetime]] = field(default_factory=list)
    summary: str = ""
    description: str = ""
    category_id: int | None = None
    service_area_id: int | None = None
    location_id: int | None = None
    target_group: str = ""
    instructor: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    fee_host_ore: int = 0
    fee_region_ore: int = 0
    fee_guest_ore: int = 0
    free_cancellation_until: datetime | None = None
    charge_no_shows: bool = True
    reserved_seats: int = 0
    reserved_until: datetime | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    visibility: Visibility = Visibility.REGION
    allow_guests: bool = False
    requires_approval: bool = False
    ask_for_comment: bool = True
    cancellation_deadline: datetime | None = None
    content_language: str = ""  # empty: the organisation's written form

    @classmethod
    def from_course(cls, course: Course) -> CourseData:
        values = {f.name: getattr(course, f.name) for f in fields(cls) if f.name != "sessions"}
        return cls(sessions=[(s.starts_at, s.ends_at) for s in course.sessions], **values)


def validate(data: CourseData) -> None:
    """Raise DomainError with a message for the first rule the data breaks."""
    if not data.title.strip():
        raise DomainError(_("The course needs a title."))
    if data.content_language and data.content_language not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Unknown language."))
    if not 0 <= data.capacity <= MAX_CAPACITY:
        raise DomainError(_("The number of seats must be between 0 and %(n)d.", n=MAX_CAPACITY))
    if not all(0 <= fee <= MAX_FEE_ORE for fee in
               (data.fee_host_ore, data.fee_region_ore, data.fee_guest_ore)):
        raise DomainError(_("A fee must be between 0 and a million kroner."))
    if not 0 <= data.reserved_seats <= data.capacity:
        raise DomainError(_("Reserved seats must be between 0 and the number of seats."))
    if data.reserved_seats and data.reserved_until is None:
        raise DomainError(_("Say until when the reserved seats are held."))
    for starts_at, ends_at in data.sessions:
        if ends_at <= starts_at:
            raise DomainError(_("A session must end after it starts."))
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if opens and closes and closes <= opens:
        raise DomainError(_("Registration must close after it opens."))


def _check_vocabulary(session: Session, organisation: Organisation, data: CourseData) -> None:
    """Only the host organisation's own categories, service areas and locations."""
    for model, object_id in ((Category, data.category_id), (ServiceArea, data.service_area_id),
                             (Location, data.location_id)):
        if object_id is not None:
            get_scoped(session, model, organisation, object_id)


def _apply(course: Course, data: CourseData) -> None:
    for f in fields(CourseData):
        if f.name != "sessions":
            value = getattr(data, f.name)
            setattr(course, f.name, value.strip() if isinstance(value, str) else value)
    course.sessions = [
        CourseSession(organisation_id=course.organisation_id, starts_at=start, ends_at=end)
        for start, end in sorted(data.sessions)
    ]
    course.starts_at = min((s for s, _e in data.sessions), default=None)
    course.ends_at = max((e for _s, e in data.sessions), default=None)


def create_course(session: Session, actor, organisation: Organisation,
                  data: CourseData) -> Course:
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    validate(data)
    _check_vocabulary(session, organisation, data)
    course = Course(organisation=organisation, organisation_id=organisation.id,
                    created_by=actor, state=CourseState.DRAFT)
    data.content_language = data.content_language or organisation.language
    _apply(course, data)
    session.add(course)
    session.flush()
    record(session, actor, "course.created", course, organisation, title=course.title)
    course_changed.send(course, session=session)
    return course


def get_course_for_management(session: Session, actor, organisation: Organisation,
                              course_id: int) -> Course:
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    return get_scoped(session, Course, organisation, course_id)


def update_course(session: Session, actor, course: Course, data: CourseData) -> None:
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    lock_course(session, course.id)  # fresh seat counters; registrations wait for us
    if course.state in (CourseState.CANCELLED, CourseState.FINISHED):
        raise DomainError(_("A cancelled or finished course cannot be changed."))
    validate(data)
    if data.capacity < course.confirmed_count:
        raise DomainError(_("%(n)d people already have a seat; the course needs at least "
                            "that many seats.", n=course.confirmed_count))
    if course.state == CourseState.PUBLISHED and not data.sessions:
        raise DomainError(_("A published course needs at least one session."))
    _check_vocabulary(session, course.organisation, data)
    data.content_language = data.content_language or course.content_language
    changed = _changed_fields(CourseData.from_course(course), data)
    _apply(course, data)
    record(session, actor, "course.updated", course, course.organisation, fields=changed)
    course_changed.send(course, session=session)


def _changed_fields(before: CourseData, after: CourseData) -> list[str]:
    """The names of the fields an edit changes (for the audit log: names, not values)."""
    return [f.name for f in fields(CourseData) if getattr(before, f.name) != getattr(after, f.name)]


def publish_course(session: Session, actor, course: Course) -> None:
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    if course.state != CourseState.DRAFT:
        raise DomainError(_("Only a draft can be published."))
    if not course.sessions:
        raise DomainError(_("Add at least one session (date and time) before publishing."))
    course.state = CourseState.PUBLISHED
    course.published_at = utcnow()
    record(session, actor, "course.published", course, course.organisation)
    course_changed.send(course, session=session)


def cancel_course(session: Session, actor, course: Course, reason: str) -> None:
    """Cancel a course; subscribers tell everyone registered (through the outbox)."""
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    if course.state != CourseState.PUBLISHED:
        raise DomainError(_("Only a published course can be cancelled."))
    if not reason.strip():
        raise DomainError(_("Give a reason; it is sent to everyone registered."))
    course.state = CourseState.CANCELLED
    course.cancel_reason = reason.strip()
    record(session, actor, "course.cancelled", course, course.organisation, reason=reason)
    course_cancelled.send(course, session=session, actor=actor, reason=course.cancel_reason)
    course_changed.send(course, session=session)


def delete_draft(session: Session, actor, course: Course) -> None:
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    if course.state != CourseState.DRAFT:
        raise DomainError(_("Only drafts can be deleted; cancel a published course instead."))
    record(session, actor, "course.deleted", course, course.organisation, title=course.title)
    course_changed.send(course, session=session)
    session.delete(course)


def copy_course(session: Session, actor, course: Course) -> Course:
    """A new draft with the same content, sessions, attachments and granted competences
    (no registrations)."""
    from frikomport.competence.catalogue import copy_grants  # competence imports courses

    data = CourseData.from_course(course)
    data.title = _("Copy of %(title)s", title=course.title)[:200]
    copy = create_course(session, actor, course.organisation, data)
    copy_files(session, course, copy)
    copy_grants(session, actor, course, copy)
    return copy


def finish_past_courses(session: Session, now: datetime | None = None) -> int:
    """Mark published courses whose last session has ended as finished."""
    now = now or utcnow()
    past = session.scalars(select(Course).where(
        Course.state == CourseState.PUBLISHED, Course.ends_at < now).with_for_update())
    count = 0
    for course in past:
        course.state = CourseState.FINISHED
        course_changed.send(course, session=session)
        count += 1
    return count
