"""Which account a provider's login opens: found, made or linked on the first login.

The rules, in the order they are tried:

1. The provider has seen this person before (its ``sub``): their linked account.
2. The address is in a domain the provider vouches for (approved by the site admin):
   the account of that address, made just in time if there is none, marked
   e-mail-verified. The provider is the authority for its domain, so an existing
   account of the address is linked at once — except a site admin's (it holds the whole
   install), one the provider already knows under another ``sub``, or when the provider
   says the address is not verified: those are linked only by their password, as in
   rule 3.
3. Any other address: only an existing account, and only after the person has typed
   that account's password once (:func:`link_with_password`) — and never an address
   of a domain another organisation's provider vouches for: that address logs in there.
   A link proved by a password ends when the password is changed or reset. No account is made: the
   provider is no authority for the address, and an account made for it could later be
   taken over by whoever controls that provider.

Every login through a provider makes the person an employee of the provider's
organisation if they are not a member yet — never of any other organisation — and
keeps their name as the provider knows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.accounts.services import find_user_by_email, normalise_email
from frikomport.audit.services import record
from frikomport.db import utcnow
from frikomport.sso import lookup
from frikomport.sso.errors import LoginRefused
from frikomport.sso.models import ExternalIdentity, IdentityProvider
from frikomport.tenancy.models import Membership, Role

MAX_NAME = 200


@dataclass(frozen=True)
class PendingLink:
    """An existing account the person must prove is theirs before it is linked."""

    provider_id: int
    subject: str
    email: str
    name: str


def sign_in(session: Session, provider: IdentityProvider, claims: dict) -> User | PendingLink:
    subject = _subject(claims)
    identity = session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.provider_id == provider.id, ExternalIdentity.subject == subject))
    if identity is not None:
        return _welcome(session, provider, identity, claims)
    email = _email(provider, claims)
    _refuse_another_providers_address(session, provider, email)
    user = find_user_by_email(session, email)
    if not _may_vouch(session, provider, claims, email, user):
        if user is None:
            raise LoginRefused(_(
                "Your address %(email)s is not in an e-mail domain that %(name)s is approved "
                "for, so the portal cannot make an account for it. Ask your organisation's "
                "administrator to add the domain, or create an account with a password first "
                "and log in here afterwards.", email=email, name=provider.display_name))
        return PendingLink(provider.id, subject, email, _name(claims))
    if user is None:
        user = User(email=email, name=_name(claims) or email, email_confirmed_at=utcnow(),
                    home_organisation=provider.organisation)
        session.add(user)
        session.flush()
        record(session, user, "sso.account_created", user, provider.organisation,
               email=email, provider=provider.display_name, subject=subject)
        linked_by = "created"
    else:
        record(session, user, "sso.account_linked", user, provider.organisation,
               email=email, provider=provider.display_name, proof="domain", subject=subject)
        linked_by = "domain"
    identity = _link(session, provider, user, subject, linked_by)
    return _welcome(session, provider, identity, claims)


def _may_vouch(session: Session, provider: IdentityProvider, claims: dict, email: str,
               user: User | None) -> bool:
    """May the provider's word alone open the account of ``email`` (rule 2)? Not when
    the provider itself says the address is unverified, not for a site admin's account,
    and not for an account it already knows under another ``sub`` (an address given to
    a new employee must not open the old one's account)."""
    if not provider.vouches_for(email) or claims.get("email_verified") in (False, "false"):
        return False
    if user is None:
        return True
    if user.is_site_admin:
        return False
    return session.scalar(select(ExternalIdentity.id).where(
        ExternalIdentity.provider_id == provider.id,
        ExternalIdentity.user_id == user.id)) is None


def _refuse_another_providers_address(session: Session, provider: IdentityProvider,
                                      email: str) -> None:
    """An address of a domain another organisation's provider vouches for belongs to that
    login: a password typed here must not tie it to this provider (its owner may even be
    barred from passwords)."""
    owner = lookup.provider_for_email(session, email)
    if owner is not None and owner.id != provider.id:
        raise LoginRefused(_("Your address %(email)s logs in through %(name)s. Use that "
                             "login.", email=email, name=owner.display_name))


def link_with_password(session: Session, pending: PendingLink, user: User) -> User:
    """Link ``pending`` to ``user`` once the caller has checked the account's password."""
    provider = session.get(IdentityProvider, pending.provider_id)
    if provider is None or not provider.enabled:
        raise LoginRefused(_("Logging in through this organisation is switched off."))
    _refuse_another_providers_address(session, provider, user.email)
    record(session, user, "sso.account_linked", user, provider.organisation,
           email=user.email, provider=provider.display_name, proof="password",
           subject=pending.subject)
    identity = _link(session, provider, user, pending.subject, "password")
    return _welcome(session, provider, identity, {"name": pending.name})


def forget_password_links(user: User, session: Session) -> None:
    """Receiver of accounts' ``password_set``: links proved by a password end with it, so
    whoever proved it (someone who had learnt the password, say) is shut out too."""
    session.execute(delete(ExternalIdentity).where(
        ExternalIdentity.user_id == user.id, ExternalIdentity.linked_by == "password"))


def _link(session: Session, provider: IdentityProvider, user: User, subject: str,
          linked_by: str) -> ExternalIdentity:
    """Link the account; a link it had to another ``sub`` of this provider is replaced
    (only by a password proof: rule 2 never replaces one)."""
    for old in session.scalars(select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.user_id == user.id)):
        session.delete(old)
    session.flush()
    identity = ExternalIdentity(organisation_id=provider.organisation_id, provider=provider,
                                user=user, subject=subject, linked_by=linked_by)
    session.add(identity)
    session.flush()
    return identity


def _welcome(session: Session, provider: IdentityProvider, identity: ExternalIdentity,
             claims: dict) -> User:
    user = identity.user
    if not user.is_enabled:
        raise LoginRefused(_("Your account in the portal is disabled. Ask the portal's "
                             "administrator."))
    if user.role_in(provider.organisation_id) is None:
        user.memberships.append(Membership(organisation=provider.organisation,
                                           role=Role.EMPLOYEE))
    if user.home_organisation_id is None:
        user.home_organisation = provider.organisation
    name = _name(claims)
    if name and name != user.name:
        user.name = name
    now = utcnow()
    # (The provider's row is not written: every login of its people would queue on it.)
    identity.last_login_at = user.last_login_at = now
    if provider.vouches_for(user.email):
        user.email_confirmed_at = user.email_confirmed_at or now
    record(session, user, "sso.login", user, provider.organisation,
           provider=provider.display_name)
    return user


def _subject(claims: dict) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise LoginRefused(_("The login service sent no usable identity (sub)."))
    return subject


def _email(provider: IdentityProvider, claims: dict) -> str:
    value = claims.get(provider.email_claim)
    try:
        if not isinstance(value, str):
            raise EmailNotValidError("missing")
        return normalise_email(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise LoginRefused(_(
            "The login service sent no e-mail address in the claim “%(claim)s”. Ask your "
            "organisation's administrator to check the single sign-on settings.",
            claim=provider.email_claim)) from exc


def _name(claims: dict) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return " ".join(name.split())[:MAX_NAME]
