"""Talking to a provider over HTTP: its discovery document and its signing keys.

Both are cached per worker (an hour; keys again at once when a token names a key we do
not have, at most once a minute) so a login costs one call to the provider's token
endpoint. Every address fetched — the issuer an admin typed, and the endpoints its
discovery document names — must be https and must not point into the server's own
network, unless ``SSO_ALLOW_LOCAL_ISSUERS`` is set (development and tests): otherwise an
organisation admin could make the portal fetch its own internal services.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import gettext as _
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from frikomport.sso.errors import ProviderUnavailable, SsoError

METADATA_SECONDS = 3600
KEYS_REFRESH_SECONDS = 60
MAX_DOCUMENT_BYTES = 512 * 1024
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")

_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict]] = {}
_keys: dict[str, tuple[float, KeySet]] = {}


def normalise_issuer(url: str) -> str:
    """The issuer as typed, checked; :func:`discover` then gives it as the provider
    writes it (with or without a trailing slash)."""
    url = url.strip()
    check_address(url)
    return url


def origin(url: str) -> str:
    """``https://host[:port]`` of an address."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def check_address(url: str) -> None:
    """Refuse an address the portal must not fetch (see the module's docstring)."""
    parts = urlsplit(url)
    local_allowed = current_app.config["SSO_ALLOW_LOCAL_ISSUERS"]
    allowed_schemes = ("https", "http") if local_allowed else ("https",)
    if parts.scheme not in allowed_schemes or not parts.hostname or parts.query \
            or parts.fragment or parts.username:
        raise SsoError(_("The address must be a plain https:// address, such as "
                         "https://login.microsoftonline.com/<tenant>/v2.0."))
    if not local_allowed and _is_internal(parts.hostname):
        raise SsoError(_("The address %(host)s is in a private network; the portal will "
                         "not fetch it.", host=parts.hostname))


def _is_internal(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False  # unknown names fail later, as "cannot be reached"
    return any(not ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos)


def fetch_json(url: str) -> dict:
    """GET a JSON object from the provider, or raise :class:`ProviderUnavailable`."""
    check_address(url)
    try:
        with requests.get(url, timeout=current_app.config["SSO_HTTP_TIMEOUT"], stream=True,
                          allow_redirects=False,
                          headers={"Accept": "application/json"}) as response:
            response.raise_for_status()
            body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError("too large")
        document = json.loads(body)
    except (requests.RequestException, ValueError) as exc:
        current_app.logger.warning("SSO: %s could not be read: %s", url, exc)
        raise ProviderUnavailable(_("The organisation's login service cannot be reached "
                                    "just now. Try again in a few minutes.")) from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(_("The organisation's login service answered something "
                                    "the portal cannot use."))
    return document


def discover(issuer: str, fresh: bool = False) -> dict:
    """The provider's discovery document, checked: it must name the same issuer (a
    different one would let tokens of another tenant of the provider in; a trailing
    slash aside, which the document's ``issuer`` then settles) and the endpoints a code
    flow needs, on addresses we may fetch."""
    now = time.monotonic()
    with _lock:
        cached = _metadata.get(issuer)
    if cached and not fresh and now - cached[0] < METADATA_SECONDS:
        return cached[1]
    document = fetch_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    found = document.get("issuer")
    if not isinstance(found, str) or found.rstrip("/") != issuer.rstrip("/"):
        raise ProviderUnavailable(_(
            "The login service says its issuer is %(found)s, not %(expected)s. Check the "
            "issuer address in the single sign-on settings.",
            found=str(found)[:200], expected=issuer))
    for name in REQUIRED_ENDPOINTS:
        if not isinstance(document.get(name), str):
            raise ProviderUnavailable(_("The login service's discovery document has no "
                                        "%(name)s.", name=name))
        check_address(document[name])
    with _lock:
        _metadata[issuer] = (now, document)
    return document


def signing_keys(metadata: dict, refresh: bool = False) -> KeySet:
    """The provider's published keys; ``refresh`` asks again (a key was rotated) unless
    they were fetched less than a minute ago."""
    uri, now = metadata["jwks_uri"], time.monotonic()
    with _lock:
        cached = _keys.get(uri)
    if cached:
        age = now - cached[0]
        if age < (KEYS_REFRESH_SECONDS if refresh else METADATA_SECONDS):
            return cached[1]
    try:
        keys = KeySet.import_key_set(fetch_json(uri))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderUnavailable(_("The login service's signing keys cannot be "
                                    "read.")) from exc
    with _lock:
        _keys[uri] = (now, keys)
    return keys


def forget(issuer: str) -> None:
    """Drop what is cached of a provider (after its settings change)."""
    with _lock:
        document = _metadata.pop(issuer, None)
        if document:
            _keys.pop(document[1].get("jwks_uri"), None)
