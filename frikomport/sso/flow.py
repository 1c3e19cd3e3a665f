"""The authorization code flow with PKCE (Authlib), from the login button back to claims.

:func:`begin` makes the provider's login address and keeps what the way back needs in an
:class:`SsoAttempt` row: the ``state`` (only its hash), the ``nonce`` and the PKCE code
verifier. The browser also keeps ``state`` in its session cookie, so that a login
started in one browser cannot be finished in another (login CSRF). :func:`finish` deletes
the attempt as it reads it — a ``state`` works once, however often the way back is sent —
then trades the code for tokens and checks the ID token: signature against the
provider's published keys, issuer, audience (and ``azp``), expiry and issue time, and the
nonce.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from flask import current_app
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jws import JWSRegistry
from sqlalchemy import delete
from sqlalchemy.orm import Session

from frikomport.db import utcnow
from frikomport.signing import digest
from frikomport.sso import crypto, logout, metadata
from frikomport.sso.errors import LoginRefused, ProviderUnavailable, SsoError
from frikomport.sso.models import IdentityProvider, SsoAttempt
from frikomport.urls import external_url

ATTEMPT_MINUTES = 15
CLOCK_LEEWAY_SECONDS = 60
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


@dataclass(frozen=True)
class LoginResult:
    """What came back from the provider: the checked ID token's claims."""

    provider: IdentityProvider
    claims: dict
    next_url: str
    end_session_endpoint: str | None


def _client(provider: IdentityProvider, document: dict, secret: str | None = None):
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = ("client_secret_basic" if "client_secret_basic" in methods
              else "client_secret_post")
    return OAuth2Session(provider.client_id, secret, token_endpoint_auth_method=method,
                         scope=provider.scopes, redirect_uri=external_url("sso.callback"),
                         code_challenge_method="S256",
                         default_timeout=current_app.config["SSO_HTTP_TIMEOUT"])


def begin(session: Session, provider: IdentityProvider, next_url: str = "",
          login_hint: str = "", locale: str = "") -> tuple[str, str]:
    """The provider's login address, and the ``state`` the browser must keep."""
    if not provider.enabled:
        raise LoginRefused(_("Logging in through %(name)s is switched off.",
                             name=provider.display_name))
    document = metadata.discover(provider.issuer)
    state, nonce, verifier = secrets.token_urlsafe(32), generate_token(32), generate_token(64)
    extra = {"nonce": nonce}
    if login_hint:
        extra["login_hint"] = login_hint
    if locale:
        extra["ui_locales"] = locale
    url, _state = _client(provider, document).create_authorization_url(
        document["authorization_endpoint"], state=state, code_verifier=verifier, **extra)
    session.add(SsoAttempt(provider_id=provider.id, state_hash=digest(state), nonce=nonce,
                           code_verifier=verifier, next_url=next_url[:500],
                           expires_at=utcnow() + timedelta(minutes=ATTEMPT_MINUTES)))
    return url, state


def finish(session: Session, args, browser_state: str | None) -> LoginResult:
    """Check what the provider sent back (the callback's query ``args``) and return the
    person's claims; raise :class:`SsoError` with a message for anything else."""
    state = args.get("state", "")
    attempt = _take_attempt(session, state)
    if attempt is None or not browser_state or not secrets.compare_digest(state,
                                                                          browser_state):
        raise SsoError(_("This login link has been used already, has expired or was "
                         "started in another browser. Start the login again."))
    provider = session.get(IdentityProvider, attempt.provider_id)
    if provider is None or not provider.enabled:
        raise LoginRefused(_("Logging in through this organisation is switched off."))
    if "error" in args:
        raise _provider_said_no(args.get("error", ""))
    if args.get("iss") not in (None, provider.issuer):  # RFC 9207: a mixed-up provider
        raise SsoError(_("The answer came from another login service than the one you "
                         "were sent to. Start the login again."))
    if not args.get("code"):
        raise SsoError(_("The login service sent no answer the portal can use. Start the "
                         "login again."))
    document = metadata.discover(provider.issuer)
    token = _exchange(provider, document, args["code"], attempt.code_verifier)
    claims = check_id_token(provider, document, token, attempt.nonce)
    if not claims.get(provider.email_claim) or not claims.get("name"):
        extra = _userinfo(provider, document, token, claims["sub"])
        claims = {**claims, **{key: value for key, value in extra.items()
                               if claims.get(key) in (None, "")}}
    return LoginResult(provider, claims, attempt.next_url,
                       logout.end_session_endpoint(document))


def _take_attempt(session: Session, state: str):
    """Delete the attempt of ``state`` and return what it kept (provider_id, nonce,
    code_verifier, next_url) — one statement, so two requests with the same state cannot
    both get it."""
    if not state or len(state) > 200:
        return None
    return session.execute(
        delete(SsoAttempt).where(SsoAttempt.state_hash == digest(state),
                                 SsoAttempt.expires_at > utcnow())
        .returning(SsoAttempt.provider_id, SsoAttempt.nonce, SsoAttempt.code_verifier,
                   SsoAttempt.next_url)).first()


def _provider_said_no(error: str) -> SsoError:
    current_app.logger.info("SSO: the provider answered error=%s", error[:100])
    if error in ("access_denied", "login_required", "consent_required",
                 "interaction_required"):
        return LoginRefused(_("The login was cancelled or not allowed by your "
                              "organisation's login service."))
    return ProviderUnavailable(_("Your organisation's login service could not log you in "
                                 "(it answered “%(error)s”). Try again, or ask your "
                                 "organisation's administrator.", error=error[:60]))


def _exchange(provider: IdentityProvider, document: dict, code: str, verifier: str) -> dict:
    client = _client(provider, document, crypto.decrypt(provider.client_secret_encrypted))
    try:
        token = client.fetch_token(document["token_endpoint"], grant_type="authorization_code",
                                   code=code, code_verifier=verifier, allow_redirects=False)
    except (requests.RequestException, OAuth2Error, OAuthError, ValueError) as exc:
        current_app.logger.warning("SSO: token request to %s failed: %s", provider.issuer, exc)
        raise ProviderUnavailable(_("Your organisation's login service did not accept the "
                                    "login. Start the login again; if it happens again, "
                                    "ask your organisation's administrator to check the "
                                    "client id and secret.")) from exc
    if not isinstance(token.get("id_token"), str):
        raise ProviderUnavailable(_("The login service sent no ID token. The scope "
                                    "“openid” may be missing in the settings."))
    return token


def _userinfo(provider: IdentityProvider, document: dict, token: dict, subject: str) -> dict:
    """The userinfo endpoint's claims, for providers that leave the address or the name
    out of the ID token (Feide, some Entra ID set-ups). They count only for the same
    ``sub`` (OpenID Connect Core 5.3.2); the ID token's own claims win."""
    endpoint = document.get("userinfo_endpoint")
    if not isinstance(endpoint, str) or not token.get("access_token"):
        return {}
    metadata.check_address(endpoint)
    client = _client(provider, document)
    client.token = token
    try:
        response = client.get(endpoint, allow_redirects=False)
        response.raise_for_status()
        claims = response.json()
    except (requests.RequestException, OAuthError, ValueError) as exc:
        current_app.logger.warning("SSO: userinfo from %s failed: %s", provider.issuer, exc)
        return {}
    if not isinstance(claims, dict) or claims.get("sub") != subject:
        current_app.logger.warning("SSO: userinfo from %s is not about the same sub",
                                   provider.issuer)
        return {}
    return claims


def check_id_token(provider: IdentityProvider, document: dict, token: dict,
                   nonce: str) -> dict:
    """The claims of the ID token, once every check has passed."""
    algorithms = [a for a in document.get("id_token_signing_alg_values_supported",
                                          ["RS256"]) if a in ID_TOKEN_ALGORITHMS]
    registry = JWSRegistry(algorithms=algorithms or ["RS256"], strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(token["id_token"], metadata.signing_keys(document),
                                 registry=registry)
        except InvalidKeyIdError:  # the provider has rotated its keys
            decoded = jwt.decode(token["id_token"], metadata.signing_keys(document, True),
                                 registry=registry)
        claims = CodeIDToken(decoded.claims, decoded.header, {
            "iss": {"essential": True, "values": [provider.issuer]},
            # Authlib checks aud only when told to: without this, a token for another
            # client that names us in azp would pass.
            "aud": {"essential": True, "values": [provider.client_id]},
            "exp": {"essential": True}, "sub": {"essential": True}},
                             {"nonce": nonce, "client_id": provider.client_id,
                              "access_token": token.get("access_token")})
        claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
    except (JoseError, ValueError) as exc:
        current_app.logger.warning("SSO: ID token from %s refused: %s", provider.issuer, exc)
        raise SsoError(_("The portal could not trust the answer from your organisation's "
                         "login service (%(reason)s). Start the login again; if it happens "
                         "again, tell your organisation's administrator.",
                         reason=_reason(exc))) from exc
    return dict(claims)


def _reason(exc: Exception) -> str:
    """A short, safe description of why a token was refused (for the person and for
    whoever they tell)."""
    text = str(getattr(exc, "error", "") or exc.__class__.__name__)
    description = getattr(exc, "description", "") or ""
    return f"{text}: {description}"[:120] if description else text[:120]


def purge_expired(session: Session) -> int:
    """Logins that never came back from the provider (housekeeping)."""
    return session.execute(delete(SsoAttempt).where(
        SsoAttempt.expires_at <= utcnow())).rowcount
