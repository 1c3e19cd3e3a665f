"""Logging in through an organisation's provider, end to end over real HTTP: the portal
on a live server, the real oidc-provider, redirects followed between them (both
databases)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from frikomport.accounts.models import User
from frikomport.audit.models import AuditEvent
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage
from frikomport.sso.models import ExternalIdentity, SsoAttempt
from frikomport.tenancy.models import Role
from tests.factories import DEFAULT_PASSWORD, member
from tests.sso.conftest import KARI, Visitor, landed_on, set_up_provider


def _user(email: str) -> User | None:
    db.session.rollback()
    return db.session.scalar(select(User).where(User.email == email))


def _actions(organisation) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.organisation_id == organisation.id).order_by(AuditEvent.id)))


def _logged_in_as(visitor: Visitor) -> str:
    """The name on the profile page, or "" when the visitor is not logged in."""
    response = visitor.get("/profile")
    if response.status_code != 200:
        return ""
    return "Kari Nordmann" if "Kari Nordmann" in response.text else response.text[:200]


def test_first_login_makes_an_account_and_an_employee_membership(portal, visitor, kongsberg,
                                                                 notodden):
    set_up_provider(kongsberg, portal.provider.issuer)
    response = visitor.log_in_with_button(next_path="/me/registrations")
    assert landed_on(response) == "/me/registrations"
    kari = _user(KARI["email"])
    assert kari is not None and kari.name == "Kari Nordmann"
    assert kari.email_confirmed_at is not None and kari.password_hash is None
    assert [(m.organisation.slug, m.role) for m in kari.memberships] == [
        ("kongsberg", Role.EMPLOYEE)]
    assert kari.home_organisation_id == kongsberg.id
    assert _logged_in_as(visitor) == "Kari Nordmann"
    assert _actions(kongsberg)[-2:] == ["sso.account_created", "sso.login"]
    assert _actions(notodden) == []
    # PKCE: the token request carried the verifier; the attempt is used up.
    assert [r["code_verifier"] for r in portal.provider.token_requests()] == [True]
    assert db.session.scalar(select(SsoAttempt.id)) is None


def test_the_next_login_finds_the_account_and_keeps_the_name_up_to_date(portal, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    Visitor(portal).log_in_with_button()
    portal.provider.set_accounts({"kari": {**KARI, "name": "Kari Nordmann Berg"}})
    second = Visitor(portal)
    assert landed_on(second.log_in_with_button()) == "/"
    kari = _user(KARI["email"])
    assert kari.name == "Kari Nordmann Berg"
    assert db.session.scalar(select(ExternalIdentity.subject)) == "kari"
    assert len(kari.memberships) == 1


def test_email_first_sends_an_sso_domain_to_its_provider(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    response = visitor.post("/login", {"email": KARI["email"].upper()})
    authorize = visitor.to_provider(response)
    query = parse_qs(urlsplit(authorize).query)
    assert query["login_hint"] == [KARI["email"]]
    assert query["code_challenge_method"] == ["S256"] and query["nonce"][0]
    assert landed_on(visitor.get(visitor.sign_in_at_provider(authorize))) == "/"
    assert _logged_in_as(visitor) == "Kari Nordmann"


def test_an_address_of_another_domain_is_asked_for_its_password(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    response = visitor.post("/login", {"email": "ola@other.example.org"})
    assert response.status_code == 200
    assert 'name="password"' in response.text and "Logg inn" in response.text


def test_passwords_switched_off_send_a_password_login_to_the_provider(portal, visitor,
                                                                      kongsberg):
    member(kongsberg, email=KARI["email"])
    set_up_provider(kongsberg, portal.provider.issuer, allow_local_passwords=False)
    response = visitor.post("/login", {"email": KARI["email"], "password": DEFAULT_PASSWORD})
    visitor.to_provider(response)
    assert _logged_in_as(visitor) == ""


def test_an_existing_account_of_a_vouched_domain_is_linked_at_once(portal, visitor, kongsberg,
                                                                    notodden):
    kari = member(notodden, Role.ORGANISER, email=KARI["email"], name="Kari N.")
    set_up_provider(kongsberg, portal.provider.issuer)
    assert landed_on(visitor.log_in_with_button()) == "/"
    kari = _user(KARI["email"])
    assert sorted((m.organisation.slug, m.role) for m in kari.memberships) == [
        ("kongsberg", Role.EMPLOYEE), ("notodden", Role.ORGANISER)]
    assert kari.name == "Kari Nordmann"
    linked = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "sso.account_linked")).one()
    assert linked.details["proof"] == "domain" and linked.organisation_id == kongsberg.id


def test_another_address_is_linked_only_after_the_password(portal, visitor, kongsberg,
                                                           notodden):
    """The provider says the address is in Notodden's domain: Kongsberg's provider does
    not vouch for it, so the account's owner must prove it with the password — and the
    membership made is Kongsberg's, never Notodden's."""
    address = "kari@notodden.example.org"
    member(notodden, email=address)
    set_up_provider(kongsberg, portal.provider.issuer)
    portal.provider.set_accounts({"kari": {**KARI, "email": address}})
    assert landed_on(visitor.log_in_with_button()) == "/login/sso/link"
    page = visitor.get("/login/sso/link")
    assert address in page.text
    wrong = visitor.post("/login/sso/link", {"password": "not-the-password", "confirm": "y"})
    assert wrong.status_code == 400 and "Passordet er feil" in wrong.text
    assert _user(address).role_in(kongsberg.id) is None
    unticked = visitor.post("/login/sso/link", {"password": DEFAULT_PASSWORD})
    assert unticked.status_code == 400 and _user(address).role_in(kongsberg.id) is None
    assert landed_on(visitor.post("/login/sso/link", {"password": DEFAULT_PASSWORD,
                                                      "confirm": "y"})) == "/"
    kari = _user(address)
    assert {m.organisation.slug for m in kari.memberships} == {"kongsberg", "notodden"}
    assert kari.role_in(notodden.id) == Role.EMPLOYEE  # unchanged, not made by the login
    # From now on the provider logs in to it directly.
    assert landed_on(Visitor(portal).log_in_with_button()) == "/"


def test_no_account_is_made_for_an_address_the_provider_does_not_vouch_for(portal, visitor,
                                                                          kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    portal.provider.set_accounts({"kari": {**KARI, "email": "kari@gmail.example.com"}})
    response = visitor.log_in_with_button()
    assert response.status_code == 403
    assert "kari@gmail.example.com" in response.text
    assert _user("kari@gmail.example.com") is None


def test_a_domain_waiting_for_approval_vouches_for_nothing(portal, visitor, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    set_up_provider(kongsberg, portal.provider.issuer, actor=admin)
    assert visitor.post("/login", {"email": KARI["email"]}).status_code == 200  # password step
    assert visitor.log_in_with_button().status_code == 403
    assert _user(KARI["email"]) is None


def test_logout_offers_to_end_the_providers_session(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    visitor.log_in_with_button()
    assert landed_on(visitor.post("/logout")) == "/logout/done"
    page = visitor.get("/logout/done")
    assert page.status_code == 200 and "Logg ut av Kongsberg kommune også" in page.text
    end_url = page.text.split('href="', 100)
    end_url = next(part.split('"')[0] for part in end_url
                   if part.startswith(portal.provider.issuer)).replace("&amp;", "&")
    query = parse_qs(urlsplit(end_url).query)
    assert query["client_id"] == ["frikomport-kongsberg"]
    assert query["post_logout_redirect_uri"] == [f"{portal.base}/logout/done"]
    back = portal.provider.logout(visitor.http, end_url)
    assert back.startswith(f"{portal.base}/logout/done")
    assert landed_on(visitor.get(back)) == "/"
    assert _logged_in_as(visitor) == ""


def test_a_password_login_is_logged_out_as_before(portal, visitor, kongsberg):
    member(kongsberg, email="ola@other.example.org")
    set_up_provider(kongsberg, portal.provider.issuer)
    visitor.post("/login", {"email": "ola@other.example.org", "password": DEFAULT_PASSWORD})
    assert landed_on(visitor.post("/logout")) == "/"


def test_what_the_id_token_leaves_out_is_read_from_userinfo(portal, visitor, kongsberg):
    """Feide and some Entra ID set-ups give the address only at the userinfo endpoint."""
    set_up_provider(kongsberg, portal.provider.issuer)
    portal.provider.tamper(claims={"email": None, "name": None})
    assert landed_on(visitor.log_in_with_button()) == "/"
    assert _user(KARI["email"]).name == "Kari Nordmann"


def test_a_site_admins_account_is_linked_only_by_its_password(portal, visitor, kongsberg):
    member(kongsberg, email=KARI["email"], is_site_admin=True)
    set_up_provider(kongsberg, portal.provider.issuer)
    assert landed_on(visitor.log_in_with_button()) == "/login/sso/link"
    assert db.session.scalar(select(ExternalIdentity.id)) is None


def test_signing_up_with_an_sso_address_goes_to_the_provider(portal, visitor, kongsberg,
                                                             notodden):
    set_up_provider(kongsberg, portal.provider.issuer)
    response = visitor.post("/signup", {"name": "Kari", "email": KARI["email"],
                                        "organisation": str(notodden.id)})
    callback = visitor.sign_in_at_provider(visitor.to_provider(response))
    assert landed_on(visitor.get(callback)) == "/"
    assert [m.organisation_id for m in _user(KARI["email"]).memberships] == [kongsberg.id]


def test_no_password_reset_for_a_domain_without_passwords(portal, visitor, kongsberg):
    member(kongsberg, email=KARI["email"])
    set_up_provider(kongsberg, portal.provider.issuer, allow_local_passwords=False)
    assert landed_on(visitor.post("/password/forgot", {"email": KARI["email"]})) == "/login"
    db.session.rollback()
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_two_first_logins_at_once_make_one_account(portal, kongsberg):
    """The same person on two devices at the same moment: the second finds the account
    and link the first made (a unique row lost is a retry, not an error)."""
    set_up_provider(kongsberg, portal.provider.issuer)
    visitors = [Visitor(portal) for _ in range(4)]
    callbacks = [v.sign_in_at_provider(v.to_provider(v.post("/login/sso/kongsberg")))
                 for v in visitors]
    barrier = threading.Barrier(len(visitors))

    def come_back(pair):
        barrier.wait()
        return pair[0].get(pair[1]).status_code

    with ThreadPoolExecutor(len(visitors)) as pool:
        statuses = list(pool.map(come_back, zip(visitors, callbacks, strict=True)))
    assert statuses == [302] * len(visitors)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 2  # + the site admin
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)) == 1
    assert len(_user(KARI["email"]).memberships) == 1
