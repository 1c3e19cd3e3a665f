"""Logging out of a session that came through a provider (OpenID RP-initiated logout).

The portal's own session always ends at once. The provider's session (the person's
Entra ID or Feide login, used by other services too) is only *offered* to be ended:
the logged-out page links to the provider's end-session endpoint, naming our client
and asking to come back to ``/logout/done``. The endpoint is kept with the session at
login, so logging out never waits for a provider that is slow or down.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.accounts.models import LoginSession
from frikomport.signing import digest
from frikomport.sso import metadata
from frikomport.sso.errors import SsoError
from frikomport.sso.models import IdentityProvider, SsoSession
from frikomport.urls import external_url


def remember(session: Session, login: LoginSession, provider: IdentityProvider,
             end_session_endpoint: str | None) -> None:
    session.add(SsoSession(login_session_id=login.id, provider_id=provider.id,
                           end_session_endpoint=end_session_endpoint))


def end_session_endpoint(document: dict) -> str | None:
    """The discovery document's end-session endpoint, if it has a usable one (it becomes
    a link on a page: only http(s) addresses)."""
    endpoint = document.get("end_session_endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > 500:
        return None
    try:
        metadata.check_address(endpoint)
    except SsoError:
        return None
    return endpoint


def end_session_offer(session: Session, login_token: str | None,
                      locale: str) -> tuple[str, str] | None:
    """(provider name, end-session address) for the session of ``login_token``, or None
    when it did not come through a provider or the provider has no such endpoint."""
    if not login_token:
        return None
    row = session.scalar(select(SsoSession).join(
        LoginSession, LoginSession.id == SsoSession.login_session_id)
        .where(LoginSession.token_hash == digest(login_token)))
    if row is None or not row.end_session_endpoint:
        return None
    endpoint = row.end_session_endpoint
    query = {"client_id": row.provider.client_id, "ui_locales": locale,
             "post_logout_redirect_uri": external_url("sso.logged_out")}
    separator = "&" if "?" in endpoint else "?"
    return row.provider.display_name, f"{endpoint}{separator}{urlencode(query)}"
