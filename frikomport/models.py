"""Import every model so that metadata (and Alembic autogenerate) sees all tables."""

from frikomport.accounts.models import User
from frikomport.audit.models import AuditEvent
from frikomport.notifications.models import OutboxAttachment, OutboxMessage
from frikomport.tenancy.models import Membership, Organisation, Role

__all__ = [
    "AuditEvent",
    "Membership",
    "Organisation",
    "OutboxAttachment",
    "OutboxMessage",
    "Role",
    "User",
]
