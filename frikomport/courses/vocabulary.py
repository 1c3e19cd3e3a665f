"""Per-tenant categories, service areas and locations (managed by admins)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.courses.models import Category, Location, ServiceArea
from frikomport.errors import DomainError
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Organisation
from frikomport.tenancy.scoping import get_scoped, scoped

VOCABULARIES = {"categories": Category, "service-areas": ServiceArea, "locations": Location}
LOCATION_FIELDS = ("address", "room", "capacity", "map_url")


def list_items(session: Session, organisation: Organisation, model) -> list:
    """Anyone may read the names (they label public courses); no permission needed."""
    return list(session.scalars(scoped(model, organisation).order_by(func.lower(model.name))))


def get_item(session: Session, organisation: Organisation, model, item_id: int):
    return get_scoped(session, model, organisation, item_id)


def _ensure_unique(session: Session, organisation: Organisation, model, name: str,
                   exclude_id: int | None = None) -> None:
    query = scoped(model, organisation).where(func.lower(model.name) == name.lower())
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if session.scalar(query) is not None:
        raise DomainError(_("“%(name)s” is already in the list.", name=name))


def save_item(session: Session, actor, organisation: Organisation, model, *,
              item_id: int | None = None, name: str, **details):
    """Add (no ``item_id``) or rename/edit an item of a tenant's vocabulary."""
    ensure(actor, Permission.MANAGE_TAXONOMY, organisation)
    name = name.strip()
    if not name:
        raise DomainError(_("The name cannot be empty."))
    if set(details) - set(LOCATION_FIELDS) or (details and model is not Location):
        raise ValueError(f"unexpected fields {sorted(details)}")
    _ensure_unique(session, organisation, model, name, exclude_id=item_id)
    if item_id is None:
        item = model(organisation_id=organisation.id, name=name, **details)
        session.add(item)
        session.flush()
        action = "added"
    else:
        item = get_scoped(session, model, organisation, item_id)
        item.name = name
        for key, value in details.items():
            setattr(item, key, value)
        action = "changed"
    record(session, actor, f"{model.__tablename__}.{action}", item, organisation, name=name)
    return item


def delete_item(session: Session, actor, organisation: Organisation, model, item_id: int) -> None:
    """Delete an item; courses that used it keep their other data (the link is cleared)."""
    ensure(actor, Permission.MANAGE_TAXONOMY, organisation)
    item = get_scoped(session, model, organisation, item_id)
    record(session, actor, f"{model.__tablename__}.deleted", item, organisation, name=item.name)
    session.delete(item)
