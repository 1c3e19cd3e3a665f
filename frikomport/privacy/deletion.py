"""Deleting a person's account (GDPR art. 17): by the person, or by a site admin on
their request.

Registrations for courses that have not ended are cancelled through the registration
engine, so the waiting list moves up and the course history says why. Every
registration of the person is then kept only as anonymised statistics (course,
employer organisation, state), as the retention rules do after some years. Everything
else that :mod:`frikomport.privacy.inventory` lists is deleted or cleared, and the
account itself is deleted last.

Competence goes with the account: records (and the files of uploaded certificates, once
the deletion is committed), course certificates — so their verification code no longer
finds them —, expiry reminders, course invitations and unit leaderships.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.audit.models import AuditEvent
from frikomport.audit.services import record
from frikomport.competence.external import user_folder
from frikomport.competence.models import (
    Certificate,
    CompetenceRecord,
    CourseInvitation,
    ReminderSent,
)
from frikomport.courses.models import Course
from frikomport.db import lock_row, utcnow
from frikomport.errors import DomainError
from frikomport.notifications.models import OutboxMessage
from frikomport.permissions import Permission, ensure
from frikomport.privacy.anonymous import ANONYMOUS, REMOVED, replace_in_strings
from frikomport.privacy.files import remove_after_commit
from frikomport.privacy.inventory import persons_certificates, persons_registrations
from frikomport.registrations.models import Registration
from frikomport.registrations.services import cancel_for_leaving
from frikomport.tenancy.models import Invitation, Organisation, Role
from frikomport.tenancy.services import admin_count
from frikomport.units.models import UnitLeader


def _refuse_if_last_admin(session: Session, user: User) -> None:
    """An organisation must keep an administrator (the same rule as for demoting)."""
    for membership in list(user.memberships):
        if membership.role != Role.ADMIN:
            continue
        organisation = lock_row(session, Organisation, membership.organisation_id)
        if admin_count(session, organisation) <= 1:
            raise DomainError(_("%(name)s is the last administrator of %(organisation)s. "
                                "Make someone else administrator first.",
                                name=user.name, organisation=membership.organisation.name))


def _cancel_future_registrations(session: Session, user: User, actor) -> int:
    now = utcnow()
    upcoming = session.scalars(select(Registration.id).join(Registration.course).where(
        persons_registrations(user), or_(Course.ends_at.is_(None), Course.ends_at > now)))
    count = 0
    for registration_id in list(upcoming):
        count += cancel_for_leaving(session, registration_id, actor)
    return count


def _delete_competence(session: Session, user: User) -> None:
    """The person's records and the folder of their uploaded certificates, their course
    certificates (also those of guest registrations made with their address: run before
    the registrations lose it), reminders, course invitations and leaderships. Records
    they decided on for others stay, without them (``ON DELETE SET NULL``)."""
    remove_after_commit(session, [user_folder(user.id)])
    for statement in (delete(CompetenceRecord).where(CompetenceRecord.user_id == user.id),
                      delete(Certificate).where(persons_certificates(user)),
                      delete(ReminderSent).where(ReminderSent.user_id == user.id),
                      delete(CourseInvitation).where(CourseInvitation.user_id == user.id),
                      delete(UnitLeader).where(UnitLeader.user_id == user.id)):
        session.execute(statement.execution_options(synchronize_session=False))


def _anonymise_registrations(session: Session, user: User) -> None:
    """What is left of the registrations is statistics. (The history's link to the
    person as actor goes with the account: the column is ``ON DELETE SET NULL``.)"""
    session.execute(update(Registration).where(persons_registrations(user))
                    .values(**ANONYMOUS).execution_options(synchronize_session=False))


def _clear_the_rest(session: Session, email: str, name: str, phone: str) -> None:
    """Rows that mention the person without being theirs alone: their address is removed
    (courses they were the contact for, audit entries), their own rows deleted."""
    session.execute(update(Course).where(Course.contact_email == email)
                    .values(contact_name="", contact_email="", contact_phone="")
                    .execution_options(synchronize_session=False))
    traces = [value for value in (email, name, phone) if len(value) >= 3]
    details = cast(AuditEvent.details, String)
    for entry in session.scalars(select(AuditEvent).where(
            or_(*(details.contains(value) for value in traces)))):
        entry.details = replace_in_strings(entry.details,
                                           lambda text: _without(text, traces))
    session.execute(delete(Invitation).where(Invitation.email == email))
    session.execute(delete(OutboxMessage).where(OutboxMessage.to_address == email))


def _without(text: str, traces: list[str]) -> str:
    """``text`` with the person's address, name and phone replaced."""
    for trace in traces:
        text = text.replace(trace, REMOVED)
    return text


def delete_person(session: Session, actor, user: User) -> int:
    """Delete ``user``'s account; return how many registrations were cancelled.

    ``actor`` is the person themself, a site admin, or None for the retention rule
    that deletes long-disabled accounts. The caller commits (and logs the person out
    when they deleted themself).
    """
    if actor is not None and actor is not user:
        ensure(actor, Permission.MANAGE_TENANTS)
    _refuse_if_last_admin(session, user)
    cancelled = _cancel_future_registrations(session, user, actor)
    _delete_competence(session, user)
    _anonymise_registrations(session, user)
    _clear_the_rest(session, user.email, user.name, user.phone)
    record(session, None if actor is user else actor, "user.deleted", user, None,
           cancelled_registrations=cancelled)
    session.flush()
    session.delete(user)
    return cancelled


def delete_guest_registration(session: Session, registration_id: int) -> None:
    """A guest (no account) deletes their registration from the link in its e-mails: it
    is cancelled if the course has not ended (the waiting list moves up), then kept only
    as statistics, and its course certificate deleted. The address is cleared from the
    rest of the portal unless it is also someone's account or another registration still
    uses it."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.user_id is not None or not registration.email:
        raise DomainError(_("The link is invalid."))
    email, name, phone = registration.email, registration.name, registration.phone
    course = registration.course
    if course.ends_at is None or course.ends_at > utcnow():
        cancel_for_leaving(session, registration_id, None)
    session.execute(delete(Certificate).where(Certificate.registration_id == registration_id)
                    .execution_options(synchronize_session=False))
    session.execute(update(Registration).where(Registration.id == registration_id)
                    .values(**ANONYMOUS).execution_options(synchronize_session=False))
    still_used = session.scalar(select(Registration.id).where(
        Registration.email == email).limit(1)) or session.scalar(
        select(User.id).where(User.email == email))
    if not still_used:
        _clear_the_rest(session, email, name, phone)
