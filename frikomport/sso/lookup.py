"""Finding the provider for a login: by the address's domain, or by organisation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from frikomport.accounts.services import normalise_email
from frikomport.sso.models import IdentityProvider, SsoDomain
from frikomport.tenancy.models import Organisation


def provider_for_email(session: Session, email: str) -> IdentityProvider | None:
    """The enabled provider that vouches for the address's domain (approved), if any."""
    domain = normalise_email(email).rpartition("@")[2]
    if not domain:
        return None
    return session.scalar(
        select(IdentityProvider).join(SsoDomain, SsoDomain.provider_id == IdentityProvider.id)
        .where(SsoDomain.domain == domain, SsoDomain.approved_at.is_not(None),
               IdentityProvider.enabled))


def login_providers(session: Session) -> list[IdentityProvider]:
    """The enabled providers, for the login page's buttons, by organisation name."""
    return list(session.scalars(
        select(IdentityProvider).join(IdentityProvider.organisation)
        .options(contains_eager(IdentityProvider.organisation))
        .where(IdentityProvider.enabled).order_by(Organisation.name)))


def provider_of(session: Session, organisation: Organisation) -> IdentityProvider | None:
    return session.scalar(select(IdentityProvider).where(
        IdentityProvider.organisation_id == organisation.id))
