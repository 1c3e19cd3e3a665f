"""A live portal and a real OpenID provider that know each other, for the browser tests
of single sign-on.

The portal must know its own address before it starts (the redirect URI it sends the
provider is built from ``BASE_URL``), and the provider must know the portal's address
before the first login (its clients' redirect URIs): so the portal's port is picked
first, the provider started with clients for it, and the portal served on that port.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from frikomport.accounts.models import User
from frikomport.extensions import db
from frikomport.sso import metadata
from frikomport.tenancy.models import Organisation
from tests.browser.conftest import migrated_app, serving
from tests.factories import OrganisationFactory, UserFactory
from tests.sso.conftest import portal_client, set_up_provider
from tests.sso.provider import OidcProvider, free_port, start_provider


@dataclass
class SsoSite:
    app: object
    base: str
    provider: OidcProvider
    organisation: Organisation


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
        with serving(app, port) as served:
            yield SsoSite(app, served, provider, kongsberg)
        metadata.forget(provider.issuer)


def existing_account(email: str, name: str) -> User:
    """An account with a password (the factories' default) and no organisation."""
    user = UserFactory(email=email, name=name)
    db.session.commit()
    return user
