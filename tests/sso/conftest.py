"""The portal on a real HTTP server beside the real test OpenID provider.

``portal`` serves the test's app (SQLite, and PostgreSQL when configured) on a free port
with BASE_URL set to that address, registers that address's callback at the provider,
and sets up Kongsberg's provider through the settings service as a site admin, so its
domain is approved. ``Visitor`` is a browser without JavaScript: a requests session
that follows every redirect over HTTP, between the portal and the provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from frikomport.accounts.models import User
from frikomport.extensions import db
from frikomport.sso import metadata, settings
from tests.browser.conftest import serving
from tests.factories import UserFactory
from tests.sso.provider import OidcProvider, free_port, oidc, oidc_provider  # noqa: F401

KONGSBERG_DOMAIN = "kongsberg.example.org"
CLIENT_ID, CLIENT_SECRET = "frikomport-kongsberg", "s3cret-kongsberg"
KARI = {"email": f"kari.nordmann@{KONGSBERG_DOMAIN}", "email_verified": True,
        "name": "Kari Nordmann", "given_name": "Kari", "family_name": "Nordmann"}


@dataclass
class Portal:
    base: str
    provider: OidcProvider

    @property
    def callback(self) -> str:
        return f"{self.base}/login/sso/callback"


@pytest.fixture
def portal(app, oidc) -> Iterator[Portal]:  # noqa: F811
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app.config.update(BASE_URL=base, SSO_ALLOW_LOCAL_ISSUERS=True)
    oidc.set_clients([portal_client(base),
                      portal_client(base, "frikomport-notodden", "s3cret-notodden")])
    oidc.set_accounts({"kari": KARI})
    with serving(app, port):
        yield Portal(base, oidc)
    metadata.forget(oidc.issuer)


def portal_client(base: str, client_id: str = CLIENT_ID,
                  secret: str = CLIENT_SECRET) -> dict:
    """The provider's client for the portal at ``base``."""
    return {"client_id": client_id, "client_secret": secret,
            "redirect_uris": [f"{base}/login/sso/callback"],
            "post_logout_redirect_uris": [f"{base}/logout/done"]}


def site_admin():
    email = "drift@frikomport.example.org"
    return db.session.scalar(select(User).where(User.email == email)) or UserFactory(
        is_site_admin=True, email=email)


def set_up_provider(organisation, issuer: str, *, client_id: str = CLIENT_ID,
                    secret: str = CLIENT_SECRET, domains: str = KONGSBERG_DOMAIN,
                    allow_local_passwords: bool = True, actor=None, **fields):
    """The organisation's provider, saved the way the settings page saves it."""
    provider = settings.save_provider(
        db.session, actor or site_admin(), organisation, issuer=issuer, client_id=client_id,
        client_secret=secret, scopes="openid email profile",
        email_claim=fields.pop("email_claim", "email"), domains=domains,
        allow_local_passwords=allow_local_passwords, enabled=fields.pop("enabled", True),
        **fields)
    db.session.commit()
    return provider


class Visitor:
    """A person's browser without JavaScript: cookies, and redirects followed by hand so
    the test sees where each one goes."""

    def __init__(self, portal: Portal):
        self.portal = portal
        self.http = requests.Session()

    def get(self, path_or_url: str, **kwargs) -> requests.Response:
        return self.http.get(self._url(path_or_url), allow_redirects=False, **kwargs)

    def post(self, path_or_url: str, data=None, **kwargs) -> requests.Response:
        return self.http.post(self._url(path_or_url), data=data or {}, allow_redirects=False,
                              **kwargs)

    def _url(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else self.portal.base + path_or_url

    def to_provider(self, response: requests.Response) -> str:
        """The authorization address a 303 from the portal sends the browser to."""
        assert response.status_code == 303, response.text[:2000]
        location = response.headers["Location"]
        assert location.startswith(self.portal.provider.issuer), location
        return location

    def sign_in_at_provider(self, authorize_url: str, account: str = "kari") -> str:
        """Sign in at the provider; the callback address it sends back (not yet opened)."""
        return self.portal.provider.login(self.http, authorize_url, account,
                                          stop_at=self.portal.callback)

    def log_in_with_button(self, slug: str = "kongsberg", account: str = "kari",
                           next_path: str = "") -> requests.Response:
        """Click the organisation's button, sign in at the provider, come back: the
        portal's answer to the callback."""
        path = f"/login/sso/{slug}" + (f"?next={next_path}" if next_path else "")
        callback = self.sign_in_at_provider(self.to_provider(self.post(path)), account)
        db.session.rollback()  # the test's session sees what the server committed
        return self.get(callback)


def landed_on(response: requests.Response) -> str:
    assert response.status_code in (302, 303), response.text[:2000]
    return urlsplit(response.headers["Location"]).path


@pytest.fixture
def visitor(portal) -> Visitor:
    return Visitor(portal)
