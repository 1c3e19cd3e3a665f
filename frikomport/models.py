"""Import every model so that metadata (and Alembic autogenerate) sees all tables."""

from frikomport.accounts.models import LoginSession, User
from frikomport.audit.models import AuditEvent
from frikomport.billing.models import InvoiceLine
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
from frikomport.tenancy.models import Invitation, Membership, Organisation, Role

__all__ = [
    "AuditEvent",
    "Category",
    "Course",
    "CourseAttachment",
    "CourseSession",
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
    "Role",
    "SearchDocument",
    "SearchJob",
    "ServiceArea",
    "User",
]
