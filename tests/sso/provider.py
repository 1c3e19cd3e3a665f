"""A real OpenID provider for the SSO tests: oidc-provider (npm) on 127.0.0.1, free port.

``tests/sso/oidc_provider.mjs`` runs the certified ``oidc-provider`` package with
in-memory accounts and clients, its own sign-in page and a few test controls; this module
starts it (``start_provider``), talks to its controls (``OidcProvider``) and drives its
pages with plain HTTP (``OidcProvider.login`` / ``logout``). The fixtures: ``oidc_provider``
(one provider for the whole session) and ``oidc`` (the same, with tampering, the pending
error and the token log reset for each test).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROGRAM = HERE / "oidc_provider.mjs"
PACKAGE = ROOT / "node_modules" / "oidc-provider"
READY_TIMEOUT = 20.0

# The portal's two test municipalities. Their redirect URIs are placeholders: a test
# that runs the portal on a live server registers its real ones with ``set_clients``.
CLIENTS = [
    {
        "client_id": "frikomport-kongsberg",
        "client_secret": "s3cret-kongsberg",
        "redirect_uris": ["http://127.0.0.1:5000/auth/sso/kongsberg/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:5000/"],
    },
    {
        "client_id": "frikomport-notodden",
        "client_secret": "s3cret-notodden",
        "redirect_uris": ["http://127.0.0.1:5000/auth/sso/notodden/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:5000/"],
    },
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Forms(HTMLParser):
    """The forms of a page: action, method, and fields (inputs, and buttons by form=)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.buttons: list[dict] = []  # buttons outside their form (form="...")
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = {"action": a.get("action", ""),
                             "method": a.get("method", "get").lower(), "fields": {}}
            self.forms.append(self._current)
            if a.get("id"):
                self.by_id[a["id"]] = self._current
        elif tag in ("input", "button") and a.get("name"):
            if tag == "input" and a.get("type", "text") in ("submit", "button", "image"):
                return
            if tag == "button":
                self.buttons.append(a)
                return
            if self._current is not None and not a.get("form"):
                self._current["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def parse_forms(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser


class OidcProvider:
    """A running ``oidc_provider.mjs``: its address and its test controls."""

    def __init__(self, process: subprocess.Popen, port: int, issuer: str):
        self.process = process
        self.port = port
        self.issuer = issuer
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._control = requests.Session()

    # --- test controls -----------------------------------------------------------------

    def _post(self, path: str, body) -> dict:
        response = self._control.post(f"{self.issuer}{path}", json=body, timeout=10)
        if response.status_code != 200:
            raise AssertionError(f"{path}: {response.status_code} {response.text}")
        return response.json()

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        """Replace all accounts: ``{accountId: {claims…}}``; ``sub`` is the accountId."""
        self._post("/test/accounts", accounts)

    def set_clients(self, clients: list[dict]) -> None:
        """Replace all clients (``client_id``, ``client_secret``, ``redirect_uris``,
        ``post_logout_redirect_uris``)."""
        self._post("/test/clients", clients)

    def tamper(self, **changes) -> None:
        """Change every ID token from the token endpoint from now on: ``aud``, ``iss``,
        ``nonce``, ``exp_offset`` (seconds from now; iat = exp - 60), ``foreign_key=True``
        (signed with another key of the same kid), ``claims={...}`` (merged in).
        ``tamper()`` turns it off."""
        self._post("/test/tamper", changes)

    def fail_next_authorization(self, error: str | None) -> None:
        """Answer the next authorization request with ``error`` (e.g. access_denied)
        instead of a sign-in; ``None`` turns it off."""
        self._post("/test/error", {"error": error} if error else {})

    def token_requests(self) -> list[dict]:
        """The token-endpoint requests seen: grant_type, code_verifier (sent or not),
        client_id, auth (client_secret_basic/post), status."""
        response = self._control.get(f"{self.issuer}/test/log", timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """No tampering, no pending error, an empty token log."""
        self._post("/test/reset", {})

    # --- driving the provider's pages with plain HTTP ------------------------------------

    def login(self, http: requests.Session, authorize_url: str, account: str,
              stop_at: str) -> str:
        """Follow the provider's redirects from authorize_url with `http`, sign in as
        `account` on the interaction page (POST its form), and return the first redirect
        Location that starts with `stop_at` (the portal's callback URL) — it does not
        fetch that URL."""
        url, method, data = authorize_url, "GET", None
        signed_in = False
        for _ in range(20):
            response = http.request(method, url, data=data, allow_redirects=False, timeout=10)
            if response.is_redirect:
                location = urljoin(url, response.headers["Location"])
                if location.startswith(stop_at):
                    return location
                url, method, data = location, "GET", None
                continue
            if response.status_code == 200 and 'name="login"' in response.text:
                if signed_in and 'role="alert"' in response.text:
                    raise AssertionError(f"sign-in as {account!r} refused: {response.text}")
                form = parse_forms(response.text).forms[0]
                url, method = urljoin(response.url, form["action"]), "POST"
                data = form["fields"] | {"login": account}
                signed_in = True
                continue
            raise AssertionError(
                f"{method} {url}: unexpected {response.status_code} from the provider "
                f"(expected a redirect to {stop_at}): {response.text[:2000]}")
        raise AssertionError(f"too many redirects from {authorize_url}")

    def logout(self, http: requests.Session, end_session_url: str) -> str:
        """Follow RP-initiated logout from end_session_url with `http` (confirm on the
        provider's page as its auto-submitting form would) and return the final Location
        back to the client (or the provider's own signed-out page if none was given)."""
        url, method, data = end_session_url, "GET", None
        for _ in range(10):
            response = http.request(method, url, data=data, allow_redirects=False, timeout=10)
            if response.is_redirect:
                location = urljoin(url, response.headers["Location"])
                if not location.startswith(self.issuer):
                    return location
                url, method, data = location, "GET", None
                continue
            if response.status_code != 200:
                raise AssertionError(f"{method} {url}: {response.status_code}: "
                                     f"{response.text[:2000]}")
            forms = parse_forms(response.text)
            if not forms.forms:
                return url  # the provider's own "Signed out" page
            form = forms.forms[0]
            data = dict(form["fields"])
            for button in forms.buttons:  # <button form="op.logoutForm" name="logout" value="yes">
                if button.get("name") == "logout":
                    data["logout"] = button.get("value", "")
            url, method = urljoin(response.url, form["action"]), "POST"
        raise AssertionError(f"too many redirects from {end_session_url}")

    def stop(self) -> None:
        process = self.process
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.stdin.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._control.close()


def _unavailable(reason: str):
    message = f"{reason}: run `make assets` (npm ci) to install the test OpenID provider"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _drain(stream, sink: collections.deque[str] | None) -> None:
    for line in stream:
        if sink is not None:
            sink.append(line.rstrip("\n"))


@contextlib.contextmanager
def start_provider(clients: list[dict], *, issuer: str | None = None) -> Iterator[OidcProvider]:
    """Start ``oidc_provider.mjs`` on a free port with these clients; stop it afterwards."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    if not (PACKAGE / "package.json").exists():
        _unavailable("node_modules/oidc-provider is missing")

    port = free_port()
    env = os.environ | {"PORT": str(port), "CLIENTS": json.dumps(clients)}
    if issuer:
        env["ISSUER"] = issuer
    else:
        env.pop("ISSUER", None)
    process = subprocess.Popen([node, str(PROGRAM)], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
    stderr_reader = threading.Thread(target=_drain, args=(process.stderr, stderr_tail),
                                     daemon=True)
    stderr_reader.start()

    # Wait for "READY <issuer>" (readline blocks, so read in a thread with a deadline).
    ready: list[str] = []
    got_line = threading.Event()

    def read_ready():
        for line in process.stdout:
            if line.startswith("READY "):
                ready.append(line.split(" ", 1)[1].strip())
                got_line.set()
                break
        got_line.set()
        _drain(process.stdout, None)

    threading.Thread(target=read_ready, daemon=True).start()
    got_line.wait(READY_TIMEOUT)
    if not ready:
        why = "exited"
        if process.poll() is None:
            why = f"did not report READY within {READY_TIMEOUT:.0f} s"
            process.kill()
        process.wait()
        stderr_reader.join(timeout=2)
        raise RuntimeError(f"the test OpenID provider {why} (exit code {process.returncode}):\n"
                           + "\n".join(stderr_tail))
    provider = OidcProvider(process, port, ready[0])
    provider.stderr_tail = stderr_tail
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """One test OpenID provider for the whole run, with the two ``CLIENTS``."""
    with start_provider(CLIENTS) as provider:
        yield provider


@pytest.fixture
def oidc(oidc_provider: OidcProvider) -> OidcProvider:
    """The session's provider with no tampering, no pending error and an empty token
    log; the test still sets its accounts (and, for its own redirect URI, clients)."""
    oidc_provider.reset()
    return oidc_provider
