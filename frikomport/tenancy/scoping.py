"""Tenant-scoped lookups: the only way views fetch tenant-owned rows by id.

Every tenant-owned model has an ``organisation_id`` column; :func:`get_scoped` adds the
organisation to the WHERE clause so an id from another tenant simply is not found.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from frikomport.errors import NotFoundError
from frikomport.tenancy.models import Organisation

T = TypeVar("T")


def get_organisation(session: Session, slug: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFoundError()
    return organisation


def get_organisation_by_id(session: Session, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError()
    return organisation


def scoped(model: type[T], organisation: Organisation) -> Select[tuple[T]]:
    """``SELECT model WHERE organisation_id = organisation.id``."""
    return select(model).where(model.organisation_id == organisation.id)  # type: ignore[attr-defined]


def get_scoped(session: Session, model: type[T], organisation: Organisation, object_id: int) -> T:
    obj = session.scalar(scoped(model, organisation).where(model.id == object_id))  # type: ignore[attr-defined]
    if obj is None:
        raise NotFoundError()
    return obj
