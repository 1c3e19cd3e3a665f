"""Import every model so that metadata (and Alembic autogenerate) sees all tables."""

from frikomport.accounts.models import LoginSession, User
from frikomport.audit.models import AuditEvent
from frikomport.billing.models import InvoiceLine
from frikomport.competence.models import (
    Certificate,
    Competence,
    CompetenceRecord,
    CourseCompetence,
    CourseInvitation,
    ReminderSent,
    Requirement,
)
from frikomport.courses.models import (
    Category,
    Course,
    CourseAttachment,
    CourseSession,
    Location,
    ServiceArea,
)
from frikomport.notifications.models import OutboxAttachment, OutboxMessage
from frikomport.ratelimit.models import RateLimitCounter
from frikomport.registrations.models import Registration, RegistrationEvent
from frikomport.search.models import SearchDocument, SearchJob
from frikomport.sso.models import (
    ExternalIdentity,
    IdentityProvider,
    SsoAttempt,
    SsoDomain,
    SsoSession,
)
from frikomport.tenancy.models import Invitation, Membership, Organisation, Role
from frikomport.units.models import Unit, UnitLeader

__all__ = [
    "AuditEvent",
    "Category",
    "Certificate",
    "Competence",
    "CompetenceRecord",
    "Course",
    "CourseAttachment",
    "CourseCompetence",
    "CourseInvitation",
    "CourseSession",
    "ExternalIdentity",
    "IdentityProvider",
    "Invitation",
    "InvoiceLine",
    "Location",
    "LoginSession",
    "Membership",
    "Organisation",
    "OutboxAttachment",
    "OutboxMessage",
    "RateLimitCounter",
    "Registration",
    "RegistrationEvent",
    "ReminderSent",
    "Requirement",
    "Role",
    "SearchDocument",
    "SearchJob",
    "ServiceArea",
    "SsoAttempt",
    "SsoDomain",
    "SsoSession",
    "Unit",
    "UnitLeader",
    "User",
]
