"""Import every model so that metadata (and Alembic autogenerate) sees all tables."""

from frikomport.accounts.models import User
from frikomport.audit.models import AuditEvent
from frikomport.courses.models import (
    Category,
    Course,
    CourseAttachment,
    CourseSession,
    Location,
    ServiceArea,
)
from frikomport.notifications.models import OutboxAttachment, OutboxMessage
from frikomport.registrations.models import Registration, RegistrationEvent
from frikomport.search.models import SearchDocument, SearchJob
from frikomport.tenancy.models import Membership, Organisation, Role

__all__ = [
    "AuditEvent",
    "Category",
    "Course",
    "CourseAttachment",
    "CourseSession",
    "Location",
    "Membership",
    "Organisation",
    "OutboxAttachment",
    "OutboxMessage",
    "Registration",
    "RegistrationEvent",
    "Role",
    "SearchDocument",
    "SearchJob",
    "ServiceArea",
    "User",
]
