"""Where the portal keeps data about a person: one :class:`Source` per kind of row.

This is the single list that "My data" (and, later, account deletion) works from. Each
source says which personal columns of its table it accounts for (``covers``); a test
walks every table's columns and fails if one that holds a person — a reference to an
account, an e-mail address or a phone number — is neither covered here nor listed in
:data:`NOT_ABOUT_A_PERSON` with the reason, so a new model cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import object_session
from sqlalchemy.sql import Select

from frikomport.accounts.models import LoginSession, User
from frikomport.audit.models import AuditEvent
from frikomport.audit.sentences import describe
from frikomport.billing.models import InvoiceLine
from frikomport.competence.models import (
    Certificate,
    Competence,
    CompetenceRecord,
    CourseInvitation,
    ReminderSent,
)
from frikomport.courses.models import Course
from frikomport.notifications.models import OutboxMessage
from frikomport.registrations.models import Registration, RegistrationEvent
from frikomport.sso.models import ExternalIdentity, SsoDomain
from frikomport.tenancy.models import Invitation, Membership
from frikomport.units.models import Unit, UnitLeader


@dataclass(frozen=True)
class Source:
    key: str  # also the name of the section's CSV file in the download
    title: Any  # lazy string
    model: type
    columns: tuple[str, ...]  # shown and exported
    covers: tuple[str, ...]  # the table's personal columns this source accounts for
    select: Callable[[User], Select]  # the person's rows
    derived: Callable[[Any], dict] = field(default=lambda _row: {})  # e.g. names of ids


def persons_registrations(user: User):
    """The person's registrations: by their account, or made as a guest with their
    address."""
    return or_(Registration.user_id == user.id, Registration.email == user.email)


def _your_registrations(user: User):
    return select(Registration.id).where(persons_registrations(user))


def persons_certificates(user: User):
    """The person's course certificates: for their account, or for a registration made
    as a guest with their address."""
    return or_(Certificate.user_id == user.id,
               Certificate.registration_id.in_(_your_registrations(user)))


def _unit_name(membership: Membership) -> str:
    if membership.unit_id is None:
        return ""
    return object_session(membership).get(Unit, membership.unit_id).name


def _name(user: User | None) -> str:
    return user.name if user else ""


def _course_invitation(invitation: CourseInvitation) -> dict:
    session = object_session(invitation)
    course = session.get(Course, invitation.course_id)
    return {"course": course.title, "host": course.organisation.name,
            "invited": _name(session.get(User, invitation.user_id)),
            "sent_by": _name(session.get(User, invitation.sent_by_id)
                             if invitation.sent_by_id else None)}


def _linked_login(identity: ExternalIdentity) -> dict:
    """Which organisation's login service knows the person, and by which identifier."""
    provider = identity.provider
    return {"login_service": provider.display_name, "organisation": provider.organisation.name,
            "service_address": provider.issuer, "identifier": identity.subject}


SOURCES: tuple[Source, ...] = (
    Source("account", _l("Account"), User,
           ("name", "email", "phone", "job_title", "locale", "is_enabled", "is_site_admin",
            "email_confirmed_at", "created_at", "last_login_at"),
           ("id", "email", "phone"),
           lambda user: select(User).where(User.id == user.id),
           lambda user: {"employer": user.home_organisation.name if user.home_organisation
                         else "",
                         "personal_calendar_link": user.calendar_token is not None}),
    Source("memberships", _l("Memberships"), Membership, ("role", "created_at"), ("user_id",),
           lambda user: select(Membership).where(Membership.user_id == user.id),
           lambda membership: {"organisation": membership.organisation.name,
                               "unit": _unit_name(membership)}),
    Source("unit_leaderships", _l("Units you lead"), UnitLeader, ("created_at",),
           ("user_id",),
           lambda user: select(UnitLeader).where(UnitLeader.user_id == user.id),
           lambda leadership: {"unit": leadership.unit.name,
                               "organisation": leadership.unit.organisation.name}),
    Source("registrations", _l("Registrations"), Registration,
           ("state", "name", "email", "phone", "employer_name", "comment", "own_reference",
            "fee_ore", "created_at", "email_confirmed_at", "updated_at"),
           ("user_id", "email", "phone"),
           lambda user: select(Registration).where(Registration.id.in_(
               _your_registrations(user))).order_by(Registration.created_at),
           lambda registration: {"course": registration.course.title,
                                 "host": registration.course.organisation.name}),
    Source("registration_history", _l("Registration history"), RegistrationEvent,
           ("registration_id", "from_state", "to_state", "note", "created_at"), ("actor_id",),
           lambda user: select(RegistrationEvent).where(or_(
               RegistrationEvent.registration_id.in_(_your_registrations(user)),
               RegistrationEvent.actor_id == user.id)).order_by(RegistrationEvent.created_at),
           lambda event: {"changed_by": event.actor.name if event.actor else ""}),
    Source("courses", _l("Courses you created or are the contact for"), Course,
           ("title", "state", "contact_name", "contact_email", "contact_phone", "created_at"),
           ("created_by_id", "contact_email", "contact_phone"),
           lambda user: select(Course).where(or_(Course.created_by_id == user.id,
                                                 Course.contact_email == user.email))),
    Source("invitations", _l("Invitations"), Invitation,
           ("email", "name", "role", "created_at", "expires_at"), ("email", "invited_by_id"),
           lambda user: select(Invitation).where(or_(Invitation.email == user.email,
                                                     Invitation.invited_by_id == user.id)),
           lambda invitation: {"organisation": invitation.organisation.name}),
    Source("emails", _l("E-mails sent to you"), OutboxMessage,
           ("subject", "body_text", "status", "created_at", "sent_at"), ("to_address",),
           lambda user: select(OutboxMessage).where(OutboxMessage.to_address == user.email)
           .order_by(OutboxMessage.created_at)),
    Source("audit_log", _l("Audit log entries by or about you"), AuditEvent,
           ("action", "object_type", "object_id", "details", "created_at"), ("actor_id",),
           lambda user: select(AuditEvent).where(or_(
               AuditEvent.actor_id == user.id,
               (AuditEvent.object_type == "user") & (AuditEvent.object_id == user.id),
               cast(AuditEvent.details, String).contains(user.email)))
           .order_by(AuditEvent.created_at),
           lambda event: {"what": describe(event, {}).sentence.striptags()}),
    Source("invoice_lines", _l("Invoiced course fees"), InvoiceLine,
           ("participant_name", "course_title", "course_starts_at", "buyer_name", "reference",
            "amount_ore", "invoice_number", "invoiced_at"), ("invoiced_by_id",),
           lambda user: select(InvoiceLine).where(or_(
               InvoiceLine.registration_id.in_(_your_registrations(user)),
               InvoiceLine.invoiced_by_id == user.id)).order_by(InvoiceLine.invoiced_at)),
    Source("competence_records", _l("Competence records"), CompetenceRecord,
           ("source", "status", "title", "issuer", "valid_from", "valid_until", "filename",
            "decided_at", "decision_note", "created_at"), ("user_id",),
           lambda user: select(CompetenceRecord).where(CompetenceRecord.user_id == user.id)
           .order_by(CompetenceRecord.valid_from),
           lambda record: {"competence": record.competence.name,
                           "decided_by": _name(record.decided_by)}),
    Source("competence_decisions", _l("Certificates from elsewhere you approved or rejected"),
           CompetenceRecord, ("status", "title", "decided_at", "decision_note"),
           ("decided_by_id",),
           lambda user: select(CompetenceRecord).where(CompetenceRecord.decided_by_id == user.id)
           .order_by(CompetenceRecord.decided_at),
           lambda record: {"competence": record.competence.name}),
    Source("certificates", _l("Course certificates"), Certificate,
           ("name", "course_title", "host_name", "first_day", "last_day", "competences",
            "code", "issued_at", "revoked_at"), ("user_id",),
           lambda user: select(Certificate).where(persons_certificates(user))
           .order_by(Certificate.issued_at)),
    Source("competence_reminders", _l("Reminders that a competence expires"), ReminderSent,
           ("valid_until", "days", "sent_at"), ("user_id",),
           lambda user: select(ReminderSent).where(ReminderSent.user_id == user.id)
           .order_by(ReminderSent.sent_at),
           lambda reminder: {"competence": object_session(reminder).get(
               Competence, reminder.competence_id).name}),
    Source("course_invitations", _l("Invitations to courses"), CourseInvitation,
           ("sent_at",), ("user_id", "sent_by_id"),
           lambda user: select(CourseInvitation).where(or_(
               CourseInvitation.user_id == user.id, CourseInvitation.sent_by_id == user.id))
           .order_by(CourseInvitation.sent_at),
           _course_invitation),
    Source("login_sessions", _l("Logged-in devices"), LoginSession,
           ("created_at", "expires_at"), ("user_id",),
           lambda user: select(LoginSession).where(LoginSession.user_id == user.id)),
    Source("linked_logins", _l("Logins through your organisation"), ExternalIdentity,
           ("created_at", "last_login_at"), ("user_id",),
           lambda user: select(ExternalIdentity).where(ExternalIdentity.user_id == user.id)
           .order_by(ExternalIdentity.created_at),
           _linked_login),
    Source("sso_domain_approvals", _l("E-mail domains you approved for single sign-on"),
           SsoDomain, ("domain", "approved_at"), ("approved_by_id",),
           lambda user: select(SsoDomain).where(SsoDomain.approved_by_id == user.id)
           .order_by(SsoDomain.approved_at),
           lambda domain: {"organisation": domain.organisation.name}),
)

# Personal-looking columns that do not describe a person, and why.
NOT_ABOUT_A_PERSON: dict[tuple[str, str], str] = {
    ("organisation", "contact_email"): "the organisation's public contact address",
    ("organisation", "contact_phone"): "the organisation's public telephone number",
    ("organisation", "invoice_email"): "the organisation's address for invoices",
}


def is_personal_column(column) -> bool:
    """A column that refers to an account or holds an e-mail address or phone number."""
    refers_to_account = any(key.column.table.name == "user_account"
                            for key in column.foreign_keys)
    name = column.name
    return (refers_to_account or name in ("email", "phone", "to_address")
            or name.endswith(("_email", "_phone"))
            or (column.table.name == "user_account" and name == "id"))
