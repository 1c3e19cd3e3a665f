"""Single sign-on (OpenID Connect), configured per organisation.

An organisation may have one :class:`IdentityProvider` (its Entra ID, Feide or
Ansattporten client). The e-mail domains it vouches for (:class:`SsoDomain`) send people
with such an address to it from the login page; a domain counts only once the site
admin has approved it, because vouching lets the provider log in to existing accounts
of that domain. A person who has logged in through a provider has an
:class:`ExternalIdentity` (the provider's stable ``sub`` for them). Every row is owned
by the organisation of the provider.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.accounts.models import User
from frikomport.db import UTCDateTime, db, utcnow
from frikomport.tenancy.models import Organisation

DEFAULT_SCOPES = "openid email profile"
DEFAULT_EMAIL_CLAIM = "email"


class IdentityProvider(db.Model):
    __tablename__ = "identity_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True)
    # Shown on the login button, e.g. "Kongsberg kommune (Entra ID)"; empty: the
    # organisation's name.
    label: Mapped[str] = mapped_column(String(100), default="")
    # Exactly as the provider's discovery document states it (ID tokens must match it).
    issuer: Mapped[str] = mapped_column(String(300))
    # Scheme and host of its authorization endpoint: the login pages' Content Security
    # Policy lets their forms lead there (form-action also covers the redirect).
    authorization_origin: Mapped[str] = mapped_column(String(300), default="",
                                                      server_default="")
    client_id: Mapped[str] = mapped_column(String(200))
    # Fernet token (sso.crypto); the secret itself is never stored or shown.
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(300), default=DEFAULT_SCOPES)
    email_claim: Mapped[str] = mapped_column(String(64), default=DEFAULT_EMAIL_CLAIM)
    # False: people of the vouched domains must log in through the provider.
    allow_local_passwords: Mapped[bool] = mapped_column(Boolean, default=True,
                                                        server_default=true())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    domains: Mapped[list[SsoDomain]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="SsoDomain.domain")

    @property
    def display_name(self) -> str:
        return self.label or self.organisation.name

    def vouches_for(self, email: str) -> bool:
        """True if ``email`` is in one of the provider's approved domains."""
        domain = email.rpartition("@")[2].lower()
        return any(d.domain == domain and d.approved_at for d in self.domains)

    def __repr__(self) -> str:
        return f"<IdentityProvider {self.organisation_id} {self.issuer}>"


class SsoDomain(db.Model):
    """An e-mail domain a provider vouches for. A domain belongs to one organisation."""

    __tablename__ = "sso_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped[IdentityProvider] = relationship(back_populates="domains")
    organisation: Mapped[Organisation] = relationship()


class ExternalIdentity(db.Model):
    """A person as a provider knows them: its ``sub`` claim, linked to their account."""

    __tablename__ = "external_identity"
    __table_args__ = (
        UniqueConstraint("provider_id", "subject", name="uq_external_identity_subject"),
        UniqueConstraint("provider_id", "user_id", name="uq_external_identity_user"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    # How the account was tied to the provider: "created" (made by the first login),
    # "domain" (an account of a vouched domain) or "password" (proved by its password;
    # such links end when the password is changed or reset).
    linked_by: Mapped[str] = mapped_column(String(10), default="created",
                                           server_default="created")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[IdentityProvider] = relationship()
    user: Mapped[User] = relationship()


class SsoAttempt(db.Model):
    """A login sent to a provider and not yet come back. Deleted when it comes back
    (so a ``state`` works once) or when it expires; only a hash of ``state`` is kept."""

    __tablename__ = "sso_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="CASCADE"), index=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SsoSession(db.Model):
    """What logging out needs of a login session that came from a provider: which
    provider, and its end-session endpoint. (The ID token is not kept: the end-session
    request names the client instead, which keeps the cookie small and the token's
    personal data out of storage.)"""

    __tablename__ = "sso_session"

    login_session_id: Mapped[int] = mapped_column(
        ForeignKey("login_session.id", ondelete="CASCADE"), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="CASCADE"), index=True)
    # The provider's end-session endpoint as it was at login (null: it has none), so that
    # logging out never waits for the provider.
    end_session_endpoint: Mapped[str | None] = mapped_column(String(500))

    provider: Mapped[IdentityProvider] = relationship()
