"""Setting up an organisation's provider: its admins only, checked against the real
provider when saved, the client secret encrypted and never shown, domains approved by
the site admin, every change in the audit log (both databases)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.sso import crypto, metadata
from frikomport.sso.errors import SsoError
from frikomport.sso.models import IdentityProvider, SsoDomain
from frikomport.sso.settings import parse_domains, rotate_secrets
from frikomport.tenancy.models import Role
from tests.factories import member
from tests.sso.conftest import CLIENT_ID, CLIENT_SECRET, KONGSBERG_DOMAIN, set_up_provider
from tests.sso.provider import free_port

PAGE = "/o/kongsberg/admin/sso"


def _form(issuer: str, **changes) -> dict:
    return {"enabled": "y", "issuer": issuer, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "scopes": "openid email profile",
            "email_claim": "email", "domain_names": KONGSBERG_DOMAIN,
            "allow_local_passwords": "y", **changes}


@pytest.fixture
def kongsberg_admin(client, login, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    login(admin)
    return admin


def test_an_admin_sets_up_the_provider_and_the_secret_is_never_shown(
        client, oidc, kongsberg, kongsberg_admin):
    response = client.post(PAGE, data=_form(oidc.issuer))
    assert response.status_code == 302, response.text
    provider = db.session.scalar(select(IdentityProvider))
    assert provider.issuer == oidc.issuer and provider.organisation_id == kongsberg.id
    assert CLIENT_SECRET not in provider.client_secret_encrypted
    assert crypto.decrypt(provider.client_secret_encrypted) == CLIENT_SECRET
    page = client.get(PAGE)
    assert CLIENT_SECRET not in page.text and provider.client_secret_encrypted not in page.text
    assert "/login/sso/callback" in page.text and "/logout/done" in page.text
    # Saving again without a secret keeps the saved one.
    assert client.post(PAGE, data=_form(oidc.issuer, client_secret="",
                                        scopes="email profile")).status_code == 302
    db.session.refresh(provider)
    assert crypto.decrypt(provider.client_secret_encrypted) == CLIENT_SECRET
    assert provider.scopes == "openid email profile"
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.like("sso.provider_%")).order_by(AuditEvent.id)))
    assert [(e.action, e.details["secret_changed"]) for e in events] == [
        ("sso.provider_created", True), ("sso.provider_updated", False)]
    assert all(CLIENT_SECRET not in str(e.details) for e in events)


def test_an_admins_domain_waits_for_the_site_admin(client, login, oidc, kongsberg,
                                                   kongsberg_admin, app):
    client.post(PAGE, data=_form(oidc.issuer))
    domain = db.session.scalar(select(SsoDomain))
    assert domain.approved_at is None
    assert "venter" in client.get(PAGE).text.lower() or "waiting" in client.get(PAGE).text
    site = member(kongsberg, Role.EMPLOYEE, is_site_admin=True)
    other = app.test_client()
    login(site, test_client=other)
    overview = other.get("/admin/sso")
    assert overview.status_code == 200 and KONGSBERG_DOMAIN in overview.text
    assert other.post(f"/admin/sso/domains/{domain.id}/approve").status_code == 302
    db.session.refresh(domain)
    assert domain.approved_at is not None and domain.approved_by_id == site.id
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "sso.domain_approved")) == "sso.domain_approved"
    assert client.get("/admin/sso").status_code == 404  # like every site-admin page


def test_a_domain_of_another_organisation_cannot_be_claimed(oidc, kongsberg, notodden):
    set_up_provider(notodden, oidc.issuer, client_id="frikomport-notodden",
                    domains="notodden.example.org")
    with pytest.raises(DomainError, match=r"notodden\.example\.org"):
        set_up_provider(kongsberg, oidc.issuer, domains="notodden.example.org")
    db.session.rollback()
    assert db.session.scalar(select(SsoDomain.organisation_id).where(
        SsoDomain.domain == "notodden.example.org")) == notodden.id


def test_an_unreachable_or_wrong_issuer_is_a_message_on_the_form(client, oidc,
                                                                 kongsberg_admin):
    dead = client.post(PAGE, data=_form(f"http://127.0.0.1:{free_port()}"))
    assert dead.status_code == 400 and "error-summary" in dead.text
    wrong = client.post(PAGE, data=_form(oidc.issuer + "/other"))
    assert wrong.status_code == 400 and oidc.issuer in wrong.text
    assert db.session.scalar(select(IdentityProvider)) is None


def test_another_organisations_settings_are_not_found(client, login, oidc, kongsberg,
                                                      notodden):
    set_up_provider(kongsberg, oidc.issuer)
    login(member(notodden, Role.ADMIN))
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, data=_form(oidc.issuer)).status_code == 404
    assert client.post(PAGE + "/delete").status_code == 404
    assert client.get("/admin/sso").status_code == 404
    assert db.session.scalar(select(IdentityProvider.organisation_id)) == kongsberg.id


def test_an_organiser_may_not_change_them(client, login, kongsberg):
    login(member(kongsberg, Role.ORGANISER))
    assert client.get(PAGE).status_code == 403


def test_removing_the_provider(client, oidc, kongsberg, kongsberg_admin):
    client.post(PAGE, data=_form(oidc.issuer))
    assert client.post(PAGE + "/delete").status_code == 302
    assert db.session.scalar(select(IdentityProvider)) is None
    assert db.session.scalar(select(SsoDomain)) is None


@pytest.mark.parametrize("issuer", [
    "http://login.example.org", "https://127.0.0.1/", "https://10.1.2.3/tenant",
    "https://[::1]/", "https://169.254.169.254/latest", "https://user@login.example.org",
    "javascript:alert(1)", "https://login.example.org/?x=1"])
def test_production_fetches_only_public_https_addresses(app, issuer):
    app.config["SSO_ALLOW_LOCAL_ISSUERS"] = False
    with pytest.raises(SsoError):
        metadata.normalise_issuer(issuer)


def test_domains_are_read_leniently_and_checked():
    assert parse_domains(" @Kongsberg.Kommune.no, skole.kongsberg.no\nkongsberg.kommune.no.") \
        == ["kongsberg.kommune.no", "skole.kongsberg.no"]
    for bad in ("localhost", "kongsberg", "-x.no", "a b@c.no", "x" * 250 + ".no"):
        with pytest.raises(DomainError):
            parse_domains(bad)


def test_secrets_are_rotated_to_the_newest_key(app, oidc, kongsberg):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["SSO_SECRET_KEYS"] = (old,)
    set_up_provider(kongsberg, oidc.issuer)
    app.config["SSO_SECRET_KEYS"] = (new, old)
    assert rotate_secrets(db.session) == 1
    db.session.commit()
    app.config["SSO_SECRET_KEYS"] = (new,)
    provider = db.session.scalar(select(IdentityProvider))
    assert crypto.decrypt(provider.client_secret_encrypted) == CLIENT_SECRET
    app.config["SSO_SECRET_KEYS"] = (Fernet.generate_key().decode(),)
    with pytest.raises(DomainError):
        crypto.decrypt(provider.client_secret_encrypted)


def test_production_without_keys_refuses_to_store_a_secret(app):
    app.config.update(ENV_NAME="production", SSO_SECRET_KEYS=())
    with pytest.raises(DomainError, match="SSO_SECRET_KEYS"):
        crypto.encrypt("x")
