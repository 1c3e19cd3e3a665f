"""A live portal and a real OpenID provider that know each other, for the browser tests
of single sign-on.

The portal must know its own address before it starts (the redirect URI it sends the
provider is built from ``BASE_URL``), and the provider must know the portal's address
before the first login (its clients' redirect URIs): so the portal's port is picked
first, the provider started with clients for it, and the portal served on that port.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from frikomport.accounts.models import User
from frikomport.extensions import db
from frikomport.sso import metadata
from frikomport.sso.settings import save_provider
from frikomport.tenancy.models import Organisation
from tests.browser.conftest import migrated_app
from tests.factories import OrganisationFactory, UserFactory
from tests.sso.provider import OidcProvider, free_port, start_provider

CLIENT_ID, CLIENT_SECRET = "frikomport-kongsberg", "s3cret-kongsberg"
DOMAIN = "kongsberg.example.org"


@contextlib.contextmanager
def serving_on(app, port: int) -> Iterator[str]:
    """The app on a real HTTP server on ``port``, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def portal_client(base: str) -> dict:
    """The provider's client for the portal at ``base``."""
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{base}/login/sso/callback"],
            "post_logout_redirect_uris": [f"{base}/logout/done"]}


@dataclass
class SsoSite:
    app: object
    base: str
    provider: OidcProvider
    organisation: Organisation


def set_up_provider(organisation: Organisation, issuer: str) -> None:
    """The organisation's single sign-on, saved by a site admin (so its domain counts at
    once), as the settings page would."""
    site_admin = UserFactory(is_site_admin=True, email="site@example.org")
    save_provider(db.session, site_admin, organisation, issuer=issuer, client_id=CLIENT_ID,
                  client_secret=CLIENT_SECRET, scopes="openid email profile",
                  email_claim="email", domains=DOMAIN, allow_local_passwords=True,
                  enabled=True)
    db.session.commit()


@pytest.fixture(scope="module")
def sso_site(tmp_path_factory) -> Iterator[SsoSite]:
    """Kongsberg kommune with single sign-on through a running test provider, on a live
    portal that knows its own address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with start_provider([portal_client(base)]) as provider, \
            migrated_app(tmp_path_factory.mktemp("sso"), BASE_URL=base) as app:
        kongsberg = OrganisationFactory(slug="kongsberg", name="Kongsberg kommune")
        set_up_provider(kongsberg, provider.issuer)
        with serving_on(app, port) as served:
            yield SsoSite(app, served, provider, kongsberg)
        metadata.forget(provider.issuer)


def existing_account(email: str, name: str) -> User:
    """An account with a password (the factories' default) and no organisation."""
    user = UserFactory(email=email, name=name)
    db.session.commit()
    return user
