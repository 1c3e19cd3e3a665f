"""Setting up an organisation's provider (its admins) and approving domains (site admin).

Saving checks the provider at once — its discovery document must answer and name the
issuer that was typed — so a typo shows up on the settings page, not at the next
person's login. The client secret is encrypted before it is stored and is never shown
again; an empty secret field keeps the saved one. A domain an organisation admin adds
waits for the site admin's approval: vouching for a domain lets the provider log in to
every account of that domain, so no organisation may claim another's (or gmail.com) on
its own say.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import delete, func, literal, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from frikomport.accounts.models import User
from frikomport.audit.services import record
from frikomport.db import utcnow
from frikomport.errors import DomainError, NotFoundError
from frikomport.permissions import Permission, ensure
from frikomport.sso import crypto, metadata
from frikomport.sso.lookup import provider_of
from frikomport.sso.models import ExternalIdentity, IdentityProvider, SsoDomain
from frikomport.tenancy.models import Organisation

DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CLAIM = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # RFC 6749's scope-token
MAX_DOMAINS = 20
MAX_SCOPES = 20


def parse_domains(text: str) -> list[str]:
    """One domain per line (or separated by commas or spaces), lower-cased, each once."""
    domains = []
    for part in re.split(r"[\s,;]+", text.strip().lower()):
        part = part.removeprefix("@").rstrip(".")
        if not part or part in domains:
            continue
        if not DOMAIN.match(part):
            raise DomainError(_("“%(domain)s” is not an e-mail domain such as "
                                "kongsberg.kommune.no.", domain=part[:100]))
        domains.append(part)
    if len(domains) > MAX_DOMAINS:
        raise DomainError(_("Give at most %(n)d domains.", n=MAX_DOMAINS))
    return domains


def parse_scopes(text: str) -> str:
    scopes = list(dict.fromkeys(text.split()))
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    if len(scopes) > MAX_SCOPES or not all(SCOPE.match(s) for s in scopes):
        raise DomainError(_("Scopes are words separated by spaces, such as “openid email "
                            "profile”."))
    return " ".join(scopes)


def save_provider(session: Session, actor, organisation: Organisation, *, issuer: str,
                  client_id: str, client_secret: str, scopes: str, email_claim: str,
                  domains: str, allow_local_passwords: bool, enabled: bool,
                  label: str = "") -> IdentityProvider:
    ensure(actor, Permission.MANAGE_SSO, organisation)
    provider = provider_of(session, organisation)
    values = {"issuer": metadata.normalise_issuer(issuer), "client_id": client_id.strip(),
              "scopes": parse_scopes(scopes), "email_claim": email_claim.strip(),
              "allow_local_passwords": allow_local_passwords, "enabled": enabled,
              "label": label.strip()}
    if not CLAIM.match(values["email_claim"]):
        raise DomainError(_("The claim is a name such as email, upn or preferred_username."))
    if provider is None and not client_secret:
        raise DomainError(_("Give the client secret."))
    document = metadata.discover(values["issuer"], fresh=True)
    values["issuer"] = document["issuer"]
    values["authorization_origin"] = metadata.origin(document["authorization_endpoint"])
    created = provider is None
    if created:
        provider = IdentityProvider(organisation=organisation, **values,
                                    client_secret_encrypted="")
        session.add(provider)
    changes = {name: [getattr(provider, name), value] for name, value in values.items()
               if not created and getattr(provider, name) != value}
    other_authority = bool({"issuer", "client_id"} & changes.keys())
    for name, value in values.items():
        setattr(provider, name, value)
    if client_secret:
        provider.client_secret_encrypted = crypto.encrypt(client_secret)
    provider.updated_at = utcnow()
    session.flush()
    added, removed = _sync_domains(session, actor, provider, parse_domains(domains))
    details = {}
    if other_authority:
        details = _forget_trust(session, actor, provider)
    record(session, actor, "sso.provider_created" if created else "sso.provider_updated",
           provider, organisation, changes=changes, secret_changed=bool(client_secret),
           domains_added=added, domains_removed=removed, **details)
    return provider


def _forget_trust(session: Session, actor, provider: IdentityProvider) -> dict:
    """Another issuer or client is another authority: the people it identified are
    unlinked (its ``sub`` values meant someone at the old one), and — unless the site
    admin made the change — its domains wait for approval again, since an approval was
    given to the old provider (else an organisation admin could point an approved
    domain at a provider of their own and log in to its accounts)."""
    links = session.execute(delete(ExternalIdentity).where(
        ExternalIdentity.provider_id == provider.id)).rowcount
    withdrawn = []
    if not actor.is_site_admin:
        for domain in provider.domains:
            if domain.approved_at is not None:
                domain.approved_at, domain.approved_by_id = None, None
                withdrawn.append(domain.domain)
    return {"links_removed": links, "approvals_withdrawn": withdrawn}


def _sync_domains(session: Session, actor, provider: IdentityProvider,
                  wanted: list[str]) -> tuple[list[str], list[str]]:
    have = {d.domain: d for d in provider.domains}
    removed = [name for name in have if name not in wanted]
    for name in removed:
        provider.domains.remove(have[name])
    added = [name for name in wanted if name not in have]
    for name in added:
        owner = session.scalar(select(SsoDomain).where(SsoDomain.domain == name))
        if owner is not None:
            raise DomainError(_("The domain %(domain)s is already used by another "
                                "organisation's login.", domain=name))
        provider.domains.append(SsoDomain(
            organisation_id=provider.organisation_id, domain=name,
            approved_at=utcnow() if actor.is_site_admin else None,
            approved_by_id=actor.id if actor.is_site_admin else None))
    session.flush()
    return added, removed


def delete_provider(session: Session, actor, organisation: Organisation) -> None:
    ensure(actor, Permission.MANAGE_SSO, organisation)
    provider = provider_of(session, organisation)
    if provider is None:
        raise NotFoundError()
    record(session, actor, "sso.provider_deleted", provider, organisation,
           issuer=provider.issuer)
    session.delete(provider)


def linked_people(session: Session, provider: IdentityProvider) -> tuple[int, object]:
    """How many people the provider has linked, and when the last of them logged in."""
    count, last = session.execute(
        select(func.count(), func.max(ExternalIdentity.last_login_at))
        .where(ExternalIdentity.provider_id == provider.id)).one()
    return count, last


# The site admin ---------------------------------------------------------------------------

def all_providers(session: Session, actor) -> list[IdentityProvider]:
    ensure(actor, Permission.MANAGE_TENANTS)
    return list(session.scalars(
        select(IdentityProvider).join(IdentityProvider.organisation)
        .options(contains_eager(IdentityProvider.organisation),
                 selectinload(IdentityProvider.domains).joinedload(SsoDomain.organisation))
        .order_by(Organisation.name)))


def accounts_in_waiting_domains(session: Session) -> dict[int, int]:
    """How many accounts each domain waiting for approval would hand to its provider
    (one query; domain names hold no LIKE wildcards, see ``DOMAIN``)."""
    return dict(session.execute(
        select(SsoDomain.id, func.count(User.id))
        .outerjoin(User, User.email.like(literal("%@") + SsoDomain.domain))
        .where(SsoDomain.approved_at.is_(None)).group_by(SsoDomain.id)).all())


def decide_domain(session: Session, actor, domain_id: int, approve: bool) -> SsoDomain:
    ensure(actor, Permission.MANAGE_TENANTS)
    domain = session.get(SsoDomain, domain_id)
    if domain is None:
        raise NotFoundError()
    if approve:
        domain.approved_at, domain.approved_by_id = utcnow(), actor.id
    else:
        session.delete(domain)
    record(session, actor, "sso.domain_approved" if approve else "sso.domain_rejected",
           domain, domain.organisation, domain=domain.domain)
    return domain


def rotate_secrets(session: Session) -> int:
    """Encrypt every client secret again under the first configured key."""
    providers = list(session.scalars(select(IdentityProvider)))
    for provider in providers:
        provider.client_secret_encrypted = crypto.rotate(provider.client_secret_encrypted)
    return len(providers)
