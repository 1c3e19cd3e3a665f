"""Single sign-on end to end in a real browser, against a real OpenID provider
(oidc-provider, tests/sso/provider.py): the organisation's button and the e-mail-first
login both go there and come back logged in; logging out offers to log out at the
provider too, and coming back from there ends on the portal. The login pages on the way
pass axe, as every page does (tests/browser/test_accessibility.py).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from frikomport.accounts.models import User
from frikomport.extensions import db
from frikomport.sso.models import ExternalIdentity
from tests.browser import sso_fixtures
from tests.browser.accessibility import check_page, report
from tests.browser.sso_fixtures import existing_account
from tests.factories import DEFAULT_PASSWORD
from tests.sso.conftest import KONGSBERG_DOMAIN as DOMAIN

sso_site = sso_fixtures.sso_site  # the fixture: a live portal and its provider


def sign_in_at_provider(page, site, account: str) -> None:
    """On the provider's own sign-in page: the account's username, then "Sign in"."""
    expect(page, "the browser did not get to the provider (a Content-Security-Policy "
                 "form-action that leaves the provider out blocks the redirect)"
           ).to_have_url(re.compile(f"^{re.escape(site.provider.issuer)}/"))
    page.get_by_label("Username").fill(account)
    page.get_by_role("button", name="Sign in").click()


def back_at_portal(page, site, path: str = "/") -> None:
    expect(page).to_have_url(f"{site.base}{path}")


def link_with_password(page) -> None:
    """On /login/sso/link: the account's password, the box that says yes, submit."""
    page.get_by_label("Passord").fill(DEFAULT_PASSWORD)
    page.locator("main").get_by_role("checkbox").check()
    page.locator("main form button[type=submit]").click()


def account_of(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_the_organisations_button_logs_in_through_the_provider(sso_site, browser):
    site = sso_site
    site.provider.set_accounts({"kari": {"email": f"kari.nordmann@{DOMAIN}",
                                         "email_verified": True, "name": "Kari Nordmann"}})
    page = browser.new_page()
    try:
        page.goto(f"{site.base}/login")
        page.locator("main").get_by_role("button", name="Kongsberg kommune").click()
        sign_in_at_provider(page, site, "kari")
        back_at_portal(page, site)
        expect(page.get_by_text("Velkommen, Kari Nordmann!")).to_be_visible()
    finally:
        page.close()
    kari = account_of(f"kari.nordmann@{DOMAIN}")  # made at the first login, verified
    assert kari.email_confirmed_at is not None
    assert kari.role_in(site.organisation.id) is not None


def test_email_first_then_log_out_at_the_provider_too(sso_site, browser):
    site = sso_site
    site.provider.set_accounts({"ola": {"email": f"ola.hansen@{DOMAIN}",
                                        "email_verified": True, "name": "Ola Hansen"}})
    page = browser.new_page()
    try:
        page.goto(f"{site.base}/login")
        page.get_by_label("E-postadresse").fill(f"ola.hansen@{DOMAIN}")
        page.locator("main").get_by_role("button", name="Fortsett").click()
        sign_in_at_provider(page, site, "ola")
        back_at_portal(page, site)
        expect(page.get_by_text("Velkommen, Ola Hansen!")).to_be_visible()

        page.get_by_role("button", name="Logg ut").click()
        back_at_portal(page, site, "/logout/done")
        offer = page.locator(f"main a[href^='{site.provider.issuer}/']")
        expect(offer).to_contain_text("Kongsberg kommune")
        offer.click()  # the provider's page signs out by itself and sends us back
        back_at_portal(page, site)
        expect(page.locator("header").get_by_role("link", name="Logg inn")).to_be_visible()
    finally:
        page.close()


def test_an_existing_account_outside_the_domains_is_linked_by_its_password(sso_site,
                                                                           browser):
    """The provider is no authority for privat.example.net: the portal asks for the
    account's password once (/login/sso/link), then logs in and remembers the link."""
    site = sso_site
    per = existing_account("per@privat.example.net", "Per Privat")
    site.provider.set_accounts({"per": {"email": "per@privat.example.net",
                                        "email_verified": True, "name": "Per Privat"}})
    page = browser.new_page()
    try:
        page.goto(f"{site.base}/login")
        page.locator("main").get_by_role("button", name="Kongsberg kommune").click()
        sign_in_at_provider(page, site, "per")
        back_at_portal(page, site, "/login/sso/link")
        link_with_password(page)
        back_at_portal(page, site)
        expect(page.get_by_text("Velkommen, Per Privat!")).to_be_visible()
    finally:
        page.close()
    db.session.expire_all()
    assert db.session.scalar(select(ExternalIdentity.subject).where(
        ExternalIdentity.user_id == per.id)) == "per"


def test_the_login_pages_on_the_way_are_accessible(sso_site, browser):
    """axe (which the portal's CSP keeps out unless bypassed, as in
    test_accessibility.py) on both steps of /login, on /login/sso/link and on the page
    after logging out."""
    site = sso_site
    existing_account("siv@privat.example.net", "Siv Privat")
    site.provider.set_accounts({"siv": {"email": "siv@privat.example.net",
                                        "name": "Siv Privat"}})
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{site.base}/login")
        findings = check_page(page, "GET /login (the e-mail)")
        page.get_by_label("E-postadresse").fill("someone@example.net")
        page.locator("main").get_by_role("button", name="Fortsett").click()
        expect(page.get_by_label("Passord")).to_be_visible()
        findings += check_page(page, "POST /login (the password)")
        page.locator("main").get_by_role("button", name="Kongsberg kommune").click()
        sign_in_at_provider(page, site, "siv")
        back_at_portal(page, site, "/login/sso/link")
        findings += check_page(page, "GET /login/sso/link")
        link_with_password(page)
        back_at_portal(page, site)
        page.get_by_role("button", name="Logg ut").click()
        back_at_portal(page, site, "/logout/done")
        findings += check_page(page, "GET /logout/done")
    finally:
        context.close()
    assert not findings, report(findings, 4)
