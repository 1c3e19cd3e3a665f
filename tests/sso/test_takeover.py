"""Ways to reach someone else's account through a provider, each shut (found in a review
of the first version; both databases, real provider). An organisation admin controls
their own provider's answers, so every rule here assumes the provider may lie about
anything but its own domain, once the site admin has approved it."""

from __future__ import annotations

from sqlalchemy import func, select

from frikomport.accounts import services, tokens
from frikomport.extensions import db
from frikomport.sso import crypto
from frikomport.sso.models import ExternalIdentity, IdentityProvider, SsoAttempt, SsoDomain
from frikomport.sso.settings import save_provider
from frikomport.tenancy.models import Role
from tests.factories import DEFAULT_PASSWORD, member
from tests.sso.conftest import KARI, KONGSBERG_DOMAIN, Visitor, landed_on, set_up_provider


def _links() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ExternalIdentity))


def test_an_admin_who_points_the_provider_elsewhere_loses_the_approval_and_the_links(
        portal, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    Visitor(portal).log_in_with_button()
    assert _links() == 1
    admin = member(kongsberg, Role.ADMIN)
    save_provider(db.session, admin, kongsberg, issuer=portal.provider.issuer,
                  client_id="frikomport-notodden", client_secret="s3cret-notodden",
                  scopes="openid email profile", email_claim="email",
                  domains=KONGSBERG_DOMAIN, allow_local_passwords=True, enabled=True)
    db.session.commit()
    assert _links() == 0
    assert db.session.scalar(select(SsoDomain.approved_at)) is None
    # Kari's account is no longer opened by the provider's word: only by her password.
    assert landed_on(Visitor(portal).log_in_with_button()) == "/login/sso/link"


def test_another_organisations_provider_cannot_claim_an_address_of_an_sso_domain(
        portal, visitor, kongsberg, notodden):
    member(kongsberg, email=KARI["email"])
    set_up_provider(kongsberg, portal.provider.issuer, allow_local_passwords=False)
    set_up_provider(notodden, portal.provider.issuer, client_id="frikomport-notodden",
                    secret="s3cret-notodden", domains="")
    response = visitor.log_in_with_button(slug="notodden")
    assert response.status_code == 403 and "Kongsberg kommune" in response.text
    assert _links() == 0


def test_a_new_password_ends_the_links_it_proved(portal, visitor, kongsberg, notodden):
    address = "kari@elsewhere.example.org"
    kari = member(notodden, email=address)
    set_up_provider(kongsberg, portal.provider.issuer)
    portal.provider.set_accounts({"kari": {**KARI, "email": address}})
    visitor.log_in_with_button()
    visitor.post("/login/sso/link", {"password": DEFAULT_PASSWORD, "confirm": "y"})
    assert _links() == 1
    services.change_password(db.session, db.session.get(type(kari), kari.id),
                             DEFAULT_PASSWORD, "et-helt-nytt-passord")
    db.session.commit()
    assert _links() == 0


def test_an_unverified_address_is_not_linked_by_the_providers_word(portal, visitor,
                                                                   kongsberg):
    member(kongsberg, email=KARI["email"])
    set_up_provider(kongsberg, portal.provider.issuer)
    portal.provider.set_accounts({"kari": {**KARI, "email_verified": False}})
    assert landed_on(visitor.log_in_with_button()) == "/login/sso/link"
    assert _links() == 0


def test_a_new_sub_with_a_known_address_needs_the_password(portal, kongsberg):
    """The address was given to a new employee (a new directory account): the old
    account is not handed over by the provider's word."""
    set_up_provider(kongsberg, portal.provider.issuer)
    Visitor(portal).log_in_with_button()
    portal.provider.set_accounts({"newcomer": KARI})
    response = Visitor(portal).log_in_with_button(account="newcomer")
    assert landed_on(response) == "/login/sso/link"
    assert db.session.scalar(select(ExternalIdentity.subject)) == "kari"


def test_no_password_reset_or_sign_up_link_gets_round_passwords_switched_off(
        client, portal, kongsberg):
    kari = member(kongsberg, email=KARI["email"])
    reset = tokens.make_reset_token(kari)
    set_up_provider(kongsberg, portal.provider.issuer, allow_local_passwords=False)
    response = client.get(f"/password/reset/{reset}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    response = client.post(f"/password/reset/{reset}", data={
        "password": "et-helt-nytt-passord", "confirm": "et-helt-nytt-passord"})
    assert response.status_code == 302
    db.session.refresh(kari)
    assert services.authenticate(db.session, kari.email, "et-helt-nytt-passord") is None


def test_the_login_pages_let_their_forms_lead_to_the_providers(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    for path in ("/login", "/signup"):
        policy = visitor.get(path).headers["Content-Security-Policy"]
        assert f"form-action 'self' {portal.provider.issuer};" in policy
    assert "form-action 'self';" in visitor.get("/").headers["Content-Security-Policy"]


def test_an_unreadable_secret_is_a_clear_page_and_spends_the_state(portal, visitor,
                                                                   kongsberg, app):
    set_up_provider(kongsberg, portal.provider.issuer)
    authorize = visitor.to_provider(visitor.post("/login/sso/kongsberg"))
    app.config["SSO_SECRET_KEYS"] = ("x" * 43 + "=",)  # another key than the one used
    callback = visitor.sign_in_at_provider(authorize)
    response = visitor.get(callback)
    assert response.status_code == 502
    db.session.rollback()
    assert db.session.scalar(select(SsoAttempt.id)) is None
    provider = db.session.scalar(select(IdentityProvider))
    app.config["SSO_SECRET_KEYS"] = ()
    assert crypto.decrypt(provider.client_secret_encrypted) == "s3cret-kongsberg"


def test_forged_session_values_are_treated_as_expired(client):
    for value in ("text", [1, 2], 5, {"provider_id": "abc"}, {"until": "soon"}):
        with client.session_transaction() as cookie:
            cookie["sso_link"] = value
            cookie["sso_logout"] = value
        assert client.get("/login/sso/link").status_code == 302
        assert client.get("/logout/done").status_code == 302
    with client.session_transaction() as cookie:
        cookie["sso_logout"] = ["Evil", "javascript:alert(1)"]
    assert client.get("/logout/done").status_code == 302
