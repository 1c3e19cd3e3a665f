"""Tenant rules: creating organisations, editing them, and managing their members."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from frikomport.accounts.models import User
from frikomport.accounts.services import find_user_by_email, normalise_email
from frikomport.accounts.tokens import make_reset_token
from frikomport.audit.services import record
from frikomport.errors import DomainError
from frikomport.notifications.services import queue_templated_email
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.tenancy.scoping import get_scoped, scoped
from frikomport.urls import external_url

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = frozenset({"admin", "new", "api", "static"})
EDITABLE_FIELDS = ("name", "region", "description", "contact_email", "contact_phone", "website")


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
    changed = set()
    for name, value in fields.items():
        value = (value or "").strip()
        if getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.add(name)
    return changed


# Members -------------------------------------------------------------------------------

def list_members(session: Session, actor, organisation: Organisation) -> list[Membership]:
    ensure(actor, Permission.VIEW_MEMBERS, organisation)
    query = (
        scoped(Membership, organisation)
        .join(Membership.user)
        .options(joinedload(Membership.user))
        .order_by(func.lower(User.name))
    )
    return list(session.scalars(query))


def get_membership(session: Session, actor, organisation: Organisation,
                   membership_id: int) -> Membership:
    ensure(actor, Permission.VIEW_MEMBERS, organisation)
    return get_scoped(session, Membership, organisation, membership_id)


def _admin_count(session: Session, organisation: Organisation) -> int:
    query = select(func.count()).select_from(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == Role.ADMIN)
    return session.scalar(query) or 0


def _guard_last_admin(session: Session, membership: Membership) -> None:
    if membership.role == Role.ADMIN and _admin_count(session, membership.organisation) <= 1:
        raise DomainError(_("An organisation must keep at least one administrator."))


def change_role(session: Session, actor, membership: Membership, role: Role) -> None:
    organisation = membership.organisation
    ensure(actor, Permission.MANAGE_MEMBERS, organisation)
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
    _guard_last_admin(session, membership)
    record(session, actor, "membership.removed", membership, organisation,
           user=membership.user.email, role=membership.role.value)
    session.delete(membership)


def add_member(session: Session, actor, organisation: Organisation, *, email: str,
               name: str, role: Role) -> Membership:
    """Give a person a role; invite them by e-mail if they have no account yet."""
    ensure(actor, Permission.MANAGE_MEMBERS, organisation)
    user = find_user_by_email(session, email)
    invited = user is None
    if invited:
        if not name.strip():
            raise DomainError(_("Give the name of the person you invite."))
        user = User(email=normalise_email(email), name=name.strip(),
                    home_organisation=organisation, locale="nb")
        session.add(user)
    elif user.role_in(organisation.id) is not None:
        raise DomainError(_("%(name)s is already a member.", name=user.name))
    membership = Membership(organisation=organisation, user=user, role=role)
    session.add(membership)
    session.flush()
    record(session, actor, "membership.added", membership, organisation,
           user=user.email, role=role.value, invited=invited)
    _notify_new_member(session, user, organisation, role, invited)
    return membership


def _notify_new_member(session: Session, user: User, organisation: Organisation,
                       role: Role, invited: bool) -> None:
    link = (external_url("accounts.reset_password", token=make_reset_token(user)) if invited
            else external_url("tenancy.organisation", slug=organisation.slug))
    queue_templated_email(session, user.email, "member_added", user.locale, user=user,
                          organisation=organisation, role=role, invited=invited, link=link)
