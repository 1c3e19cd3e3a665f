"""The test OpenID provider itself (tests/sso/oidc_provider.mjs): it answers discovery,
runs a whole authorization-code flow with PKCE over real HTTP, and each test control
really does what the SSO tests rely on — before the portal is tested against it."""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwk, jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError

from tests.sso.provider import CLIENTS, OidcProvider, oidc, oidc_provider  # noqa: F401

CALLBACK = "http://127.0.0.1:9/harness/callback"  # never fetched: login() stops there
LOGGED_OUT = "http://127.0.0.1:9/harness/logged-out"
ACCOUNTS = {
    "kari": {"email": "kari.nordmann@kongsberg.example.org", "email_verified": True,
             "name": "Kari Nordmann", "given_name": "Kari", "family_name": "Nordmann",
             "upn": "kari@kongsberg.onmicrosoft.example"},
}


@pytest.fixture
def provider(oidc: OidcProvider) -> OidcProvider:  # noqa: F811
    oidc.set_accounts(ACCOUNTS)
    oidc.set_clients([client | {"redirect_uris": [CALLBACK],
                                "post_logout_redirect_uris": [LOGGED_OUT]}
                      for client in CLIENTS])
    return oidc


def discovery(provider: OidcProvider) -> dict:
    response = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


def payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sign_in(provider: OidcProvider, *, client: dict = CLIENTS[0], account: str = "kari",
            auth_method: str = "client_secret_basic") -> tuple[dict, dict]:
    """The whole flow as the portal will run it; returns (token response, callback query)."""
    meta = discovery(provider)
    rp = OAuth2Session(client["client_id"], client["client_secret"],
                       scope="openid email profile", redirect_uri=CALLBACK,
                       code_challenge_method="S256", token_endpoint_auth_method=auth_method)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(meta["authorization_endpoint"],
                                             code_verifier=verifier, nonce=nonce)
    with requests.Session() as browser:
        callback = provider.login(browser, url, account, stop_at=CALLBACK)
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert query["state"] == state
    token = rp.fetch_token(meta["token_endpoint"], authorization_response=callback,
                           code_verifier=verifier)
    token["_nonce"] = nonce
    return token, query


def verify(provider: OidcProvider, id_token: str, *, client_id: str, nonce: str) -> dict:
    keys = jwk.KeySet.import_key_set(requests.get(discovery(provider)["jwks_uri"],
                                                  timeout=10).json())
    decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": provider.issuer},
                          aud={"essential": True, "value": client_id},
                          nonce={"essential": True, "value": nonce}).validate(decoded.claims)
    return decoded.claims


def test_discovery(provider):
    meta = discovery(provider)
    assert meta["issuer"] == provider.issuer == f"http://127.0.0.1:{provider.port}"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["claims_parameter_supported"] is False
    assert meta["end_session_endpoint"] == f"{provider.issuer}/session/end"
    assert {"client_secret_basic", "client_secret_post"} <= set(
        meta["token_endpoint_auth_methods_supported"])
    assert {"openid", "email", "profile"} <= set(meta["scopes_supported"])
    assert "upn" in meta["claims_supported"]
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert [(k["kty"], k["alg"]) for k in keys] == [("RSA", "RS256")]
    assert "d" not in keys[0]


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_code_flow_with_pkce(provider, auth_method):
    client = CLIENTS[1]
    token, query = sign_in(provider, client=client, auth_method=auth_method)
    assert query["iss"] == provider.issuer
    claims = verify(provider, token["id_token"], client_id=client["client_id"],
                    nonce=token["_nonce"])
    assert claims["sub"] == "kari"
    assert {k: claims[k] for k in ACCOUNTS["kari"]} == ACCOUNTS["kari"]  # in the ID token
    assert provider.token_requests() == [{
        "grant_type": "authorization_code", "code_verifier": True,
        "client_id": client["client_id"], "auth": auth_method, "status": 200}]


def test_pkce_is_required(provider):
    client = CLIENTS[0]
    url = f"{discovery(provider)['authorization_endpoint']}?" + urlencode({
        "client_id": client["client_id"], "redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid", "state": "st"})
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.is_redirect
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "PKCE" in query["error_description"][0]


def test_unknown_account_is_refused_on_the_sign_in_page(provider):
    rp = OAuth2Session(CLIENTS[0]["client_id"], scope="openid", redirect_uri=CALLBACK,
                       code_challenge_method="S256")
    url, _ = rp.create_authorization_url(discovery(provider)["authorization_endpoint"],
                                         code_verifier=secrets.token_urlsafe(48))
    with requests.Session() as browser:
        page = browser.get(url, timeout=10)
        assert '<html lang="en">' in page.text and "<h1>Sign in</h1>" in page.text
        assert '<label for="login">Username</label>' in page.text
        with pytest.raises(AssertionError, match="refused"):
            provider.login(browser, url, "nobody", stop_at=CALLBACK)


def test_fail_next_authorization(provider):
    provider.fail_next_authorization("access_denied")
    rp = OAuth2Session(CLIENTS[0]["client_id"], scope="openid", redirect_uri=CALLBACK,
                       code_challenge_method="S256")
    url, state = rp.create_authorization_url(discovery(provider)["authorization_endpoint"],
                                             code_verifier=secrets.token_urlsafe(48))
    with requests.Session() as browser:
        location = provider.login(browser, url, "kari", stop_at=CALLBACK)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query == {"error": "access_denied", "state": state, "iss": provider.issuer}
    sign_in(provider)  # only the next one


TAMPERING = [
    ({"aud": "someone-else"}, InvalidClaimError),
    ({"iss": "http://evil"}, InvalidClaimError),
    ({"nonce": "x"}, InvalidClaimError),
    ({"exp_offset": -3600}, ExpiredTokenError),
    ({"foreign_key": True}, BadSignatureError),
]


@pytest.mark.parametrize(("changes", "error"), TAMPERING,
                         ids=[next(iter(c)) for c, _ in TAMPERING])
def test_tampered_id_token_fails_verification(provider, changes, error):
    provider.tamper(**changes)
    token, _ = sign_in(provider)
    header = json.loads(base64.urlsafe_b64decode(token["id_token"].split(".")[0] + "=="))
    keys = requests.get(discovery(provider)["jwks_uri"], timeout=10).json()["keys"]
    assert header["kid"] == keys[0]["kid"]  # same kid, even with the foreign key
    with pytest.raises(error):
        verify(provider, token["id_token"], client_id=CLIENTS[0]["client_id"],
               nonce=token["_nonce"])
    claims = payload(token["id_token"])
    if "exp_offset" in changes:
        assert claims["iat"] == claims["exp"] - 60
    elif "foreign_key" not in changes:
        assert claims[next(iter(changes))] == next(iter(changes.values()))


def test_tampered_claims_are_validly_signed(provider):
    provider.tamper(claims={"email": "mallory@evil.example", "email_verified": False})
    token, _ = sign_in(provider)
    claims = verify(provider, token["id_token"], client_id=CLIENTS[0]["client_id"],
                    nonce=token["_nonce"])
    assert (claims["email"], claims["email_verified"]) == ("mallory@evil.example", False)
    assert claims["name"] == "Kari Nordmann"
    provider.tamper()
    token, _ = sign_in(provider)
    assert payload(token["id_token"])["email"] == ACCOUNTS["kari"]["email"]


def test_rp_initiated_logout_returns_to_the_client_with_state(provider):
    token, _ = sign_in(provider)
    url = f"{discovery(provider)['end_session_endpoint']}?" + urlencode({
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGGED_OUT,
        "state": "bye"})
    with requests.Session() as browser:
        meta = discovery(provider)
        rp = OAuth2Session(CLIENTS[0]["client_id"], scope="openid", redirect_uri=CALLBACK,
                           code_challenge_method="S256")
        login_url, _ = rp.create_authorization_url(meta["authorization_endpoint"],
                                                   code_verifier=secrets.token_urlsafe(48))
        provider.login(browser, login_url, "kari", stop_at=CALLBACK)
        page = browser.get(url, timeout=10)  # the confirm page: auto-submits, has a button
        assert 'name="logout" value="yes"' in page.text and "<script>" in page.text
        assert provider.logout(browser, url) == f"{LOGGED_OUT}?state=bye"
        # signed out: the next authorization asks for the username again
        assert "<h1>Sign in</h1>" in browser.get(login_url, timeout=10).text
