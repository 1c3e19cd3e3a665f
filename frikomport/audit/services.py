"""Record and list audit events."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from frikomport.audit.models import AuditEvent
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Organisation


def record(session: Session, actor, action: str, obj, organisation: Organisation | None,
           **details) -> AuditEvent:
    event = AuditEvent(
        organisation_id=organisation.id if organisation else None,
        actor_id=actor.id if actor is not None and getattr(actor, "id", None) else None,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=obj.id,
        details=details,
    )
    session.add(event)
    return event


def list_events(session: Session, actor, organisation: Organisation,
                limit: int = 200) -> list[AuditEvent]:
    ensure(actor, Permission.VIEW_AUDIT_LOG, organisation)
    query = (
        select(AuditEvent)
        .where(AuditEvent.organisation_id == organisation.id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
