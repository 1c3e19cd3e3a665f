"""Tenant rules: creating organisations, editing them, and managing their members."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from frikomport.accounts.models import User
from frikomport.audit.services import record
from frikomport.billing.orgnumber import is_valid_org_number
from frikomport.db import casefolded, lock_row, page_of
from frikomport.errors import DomainError, NotFoundError
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.tenancy.scoping import get_scoped, scoped
from frikomport.units.services import forget_leaderships

MEMBERS_PER_PAGE = 50

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = frozenset({"admin", "new", "api", "static"})
EDITABLE_FIELDS = ("name", "region", "description", "contact_email", "contact_phone", "website",
                   "language", "org_number", "invoice_email", "receives_ehf", "buyer_reference",
                   "invoice_street", "invoice_postcode", "invoice_city", "vat_registered")
BOOLEAN_FIELDS = frozenset({"receives_ehf", "vat_registered"})


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def create_organisation(session: Session, actor, *, slug: str, name: str, **fields) -> Organisation:
    ensure(actor, Permission.MANAGE_TENANTS)
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        raise DomainError(_("The short name may contain only a–z, 0–9 and hyphens."))
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise DomainError(_("Another organisation already uses this short name."))
    organisation = Organisation(slug=slug, name=name.strip())
    _apply_fields(organisation, fields)
    session.add(organisation)
    session.flush()
    record(session, actor, "organisation.created", organisation, organisation, slug=slug)
    return organisation


def update_organisation(session: Session, actor, organisation: Organisation, **fields) -> None:
    ensure(actor, Permission.EDIT_ORGANISATION, organisation)
    changed = _apply_fields(organisation, fields)
    if changed:
        record(session, actor, "organisation.updated", organisation, organisation,
               fields=sorted(changed))


def _apply_fields(organisation: Organisation, fields: dict) -> set[str]:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "language" in fields and fields["language"] not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Unknown language."))
    changed = set()
    for name, value in fields.items():
        value = bool(value) if name in BOOLEAN_FIELDS else (value or "").strip()
        if getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.add(name)
    _check_invoice_details(organisation)
    return changed


def _check_invoice_details(organisation: Organisation) -> None:
    """The form says this to people; here it holds for every caller (the CLI too)."""
    if organisation.org_number and not is_valid_org_number(organisation.org_number):
        raise DomainError(_("This is not a valid organisation number: the last digit (the "
                            "check digit) does not match. Check the number in "
                            "Enhetsregisteret."))
    if organisation.receives_ehf and not organisation.org_number:
        raise DomainError(_("EHF invoices are addressed to the organisation number: fill it "
                            "in to receive EHF."))


# Members -------------------------------------------------------------------------------

def list_members(session: Session, actor, organisation: Organisation, text: str = "",
                 role: Role | None = None, page: int = 1,
                 per_page: int = MEMBERS_PER_PAGE) -> SelectPagination:
    """One page of the members, by name, found by words in the name or e-mail address
    and by role. A municipality has thousands of employees in the portal."""
    ensure(actor, Permission.VIEW_MEMBERS, organisation)
    query = scoped(Membership, organisation).join(Membership.user)
    if needle := text.strip().lower():
        query = query.where(casefolded(User.name).contains(needle, autoescape=True)
                            | casefolded(User.email).contains(needle, autoescape=True))
    if role is not None:
        query = query.where(Membership.role == role)
    query = query.options(contains_eager(Membership.user)).order_by(casefolded(User.name),
                                                                    Membership.id)
    return page_of(session, query, page, per_page)


def get_membership(session: Session, actor, organisation: Organisation,
                   membership_id: int) -> Membership:
    ensure(actor, Permission.VIEW_MEMBERS, organisation)
    return get_scoped(session, Membership, organisation, membership_id)


def admin_count(session: Session, organisation: Organisation) -> int:
    query = select(func.count()).select_from(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == Role.ADMIN)
    return session.scalar(query) or 0


def _lock_for_member_change(session: Session, actor, membership: Membership) -> None:
    """Serialise changes to an organisation's members, then re-check on fresh data.

    Two admins demoting each other at the same moment would otherwise both see two
    admins and leave none. With the organisation row locked the second waits, then
    finds that it is no longer an admin itself, or that the other is the last one.
    """
    organisation = lock_row(session, Organisation, membership.organisation_id)
    fresh = session.scalar(select(Membership).where(Membership.id == membership.id)
                           .execution_options(populate_existing=True))
    if fresh is None:
        raise NotFoundError()
    if actor is not None and getattr(actor, "id", None):
        session.refresh(actor, ["memberships"])
    ensure(actor, Permission.MANAGE_MEMBERS, organisation)


def _guard_last_admin(session: Session, membership: Membership) -> None:
    if membership.role == Role.ADMIN and admin_count(session, membership.organisation) <= 1:
        raise DomainError(_("An organisation must keep at least one administrator."))


def change_role(session: Session, actor, membership: Membership, role: Role) -> None:
    organisation = membership.organisation
    ensure(actor, Permission.MANAGE_MEMBERS, organisation)
    _lock_for_member_change(session, actor, membership)
    if membership.role == role:
        return
    if role != Role.ADMIN:
        _guard_last_admin(session, membership)
    old = membership.role
    membership.role = role
    record(session, actor, "membership.role_changed", membership, organisation,
           user=membership.user.email, old=old.value, new=role.value)


def remove_member(session: Session, actor, membership: Membership) -> None:
    organisation = membership.organisation
    ensure(actor, Permission.MANAGE_MEMBERS, organisation)
    _lock_for_member_change(session, actor, membership)
    _guard_last_admin(session, membership)
    record(session, actor, "membership.removed", membership, organisation,
           user=membership.user.email, role=membership.role.value)
    forget_leaderships(session, membership)
    _move_home(session, membership)
    session.delete(membership)


def _move_home(session: Session, leaving: Membership) -> None:
    """The home organisation is the person's employer: it sets their fee, is billed for
    them and decides their external certificates. One they leave cannot stay it, so it
    moves to the organisation they joined first of those they remain in, or to none
    (registrations already made keep the employer they were billed to; accepting an
    invitation later sets a new home)."""
    person = leaving.user
    if person.home_organisation_id != leaving.organisation_id:
        return
    remaining = session.scalar(
        select(Membership.organisation_id)
        .where(Membership.user_id == person.id, Membership.id != leaving.id)
        .order_by(Membership.id).limit(1))
    person.home_organisation = (session.get(Organisation, remaining)
                                if remaining is not None else None)
