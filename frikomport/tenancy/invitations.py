"""Inviting people into an organisation.

An admin gives an e-mail address and a role; the person gets a link and accepts it (an
existing account logs in first, a new person chooses a name and password). The admin
is told the same thing whether or not the address has an account, and learns nothing
about the account until the person has accepted.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.accounts.passwords import hash_password
from frikomport.accounts.services import check_password_policy, find_user_by_email, normalise_email
from frikomport.audit.services import record
from frikomport.db import lock_row, utcnow
from frikomport.errors import DomainError
from frikomport.i18n import recipient_locale
from frikomport.notifications.services import queue_templated_email
from frikomport.permissions import Permission, can, ensure
from frikomport.signing import digest
from frikomport.tenancy.models import Invitation, Membership, Organisation, Role
from frikomport.tenancy.scoping import get_scoped, scoped
from frikomport.urls import external_url


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["EMAIL_CONFIRM_MAX_AGE"])


def invite(session: Session, actor, organisation: Organisation, *, email: str, name: str,
           role: Role) -> Invitation:
    """Send (or send again, replacing the older one) an invitation to ``email``."""
    ensure(actor, Permission.MANAGE_MEMBERS, organisation)
    email = normalise_email(email)
    already = session.scalar(select(Membership.id).join(Membership.user).where(
        Membership.organisation_id == organisation.id, User.email == email))
    if already:
        raise DomainError(_("%(email)s is already a member.", email=email))
    session.execute(delete(Invitation).where(Invitation.organisation_id == organisation.id,
                                             Invitation.email == email))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(organisation_id=organisation.id, email=email, name=name.strip(),
                            role=role, token_hash=digest(token), invited_by_id=actor.id,
                            expires_at=utcnow() + _lifetime())
    session.add(invitation)
    session.flush()
    record(session, actor, "invitation.sent", invitation, organisation, email=email,
           role=role.value)
    known = find_user_by_email(session, email)  # only to write in the person's language
    queue_templated_email(
        session, email, "invitation", recipient_locale(known, host=organisation),
        organisation=organisation, role=role, inviter=actor.name, name=invitation.name,
        link=external_url("invitations.respond", token=token),
        days=_lifetime().days)
    return invitation


def pending(session: Session, actor, organisation: Organisation) -> list[Invitation]:
    ensure(actor, Permission.VIEW_MEMBERS, organisation)
    return list(session.scalars(scoped(Invitation, organisation)
                                .where(Invitation.expires_at > utcnow())
                                .order_by(Invitation.created_at.desc())))


def withdraw(session: Session, actor, organisation: Organisation, invitation_id: int) -> None:
    ensure(actor, Permission.MANAGE_MEMBERS, organisation)
    invitation = get_scoped(session, Invitation, organisation, invitation_id)
    record(session, actor, "invitation.withdrawn", invitation, organisation,
           email=invitation.email)
    session.delete(invitation)


def _invalid() -> DomainError:
    return DomainError(_("The invitation is invalid, has expired or has already been used. "
                         "Ask the administrator for a new one."))


def find(session: Session, token: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(
        Invitation.token_hash == digest(token), Invitation.expires_at > utcnow()))
    if invitation is None:
        raise _invalid()
    return invitation


def has_account(session: Session, invitation: Invitation) -> bool:
    """Whether the invited address has an account one can log in to (an account that
    never got a password is completed by :func:`accept_as_new_person`)."""
    user = find_user_by_email(session, invitation.email)
    return user is not None and user.password_hash is not None


def _still_valid(session: Session, invitation_id: int) -> Invitation:
    """The invitation, locked, if it can still be accepted: not used or withdrawn in the
    meantime (a second click loses the race here), not expired, and its sender may
    still manage members (a demoted admin's invitations die with the role)."""
    invitation = lock_row(session, Invitation, invitation_id)
    if invitation is None or invitation.expires_at <= utcnow():
        raise _invalid()
    inviter = session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    if inviter is None or not inviter.is_enabled or not can(
            inviter, Permission.MANAGE_MEMBERS, invitation.organisation):
        raise _invalid()
    return invitation


def accept(session: Session, invitation_id: int, user: User) -> Membership:
    """The invited person (logged in with the invited address) takes the role."""
    invitation = _still_valid(session, invitation_id)
    if user.email != invitation.email:
        raise DomainError(_("This invitation was sent to another e-mail address."))
    organisation = invitation.organisation
    membership = session.scalar(select(Membership).where(
        Membership.organisation_id == organisation.id, Membership.user_id == user.id))
    if membership is None:
        membership = Membership(organisation=organisation, user=user, role=invitation.role)
        session.add(membership)
        session.flush()
        record(session, user, "membership.added", membership, organisation,
               user=user.email, role=invitation.role.value, via="invitation")
    user.home_organisation = user.home_organisation or organisation
    user.email_confirmed_at = user.email_confirmed_at or utcnow()  # the link proves it
    session.delete(invitation)
    return membership


def accept_as_new_person(session: Session, invitation_id: int, *, name: str, password: str,
                         locale: str | None = None) -> User:
    """Create the account of an invited person who has none (or complete one that never
    got a password: the link proves the address), and accept."""
    invitation = _still_valid(session, invitation_id)
    if has_account(session, invitation):
        raise DomainError(_("There is already an account with this address. "
                            "Log in to accept the invitation."))
    check_password_policy(password, invitation.email)
    user = find_user_by_email(session, invitation.email)
    if user is None:
        user = User(email=invitation.email, locale=locale)
        session.add(user)
    user.name = name.strip()
    user.password_hash = hash_password(password)
    session.flush()
    accept(session, invitation_id, user)
    return user


def purge_expired(session: Session) -> int:
    return session.execute(delete(Invitation).where(Invitation.expires_at <= utcnow())).rowcount
