"""A live server on a migrated SQLite database, and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium the browser tests are skipped on a developer machine but fail
in CI (CI=true), where `make test` installs it. One browser is shared by all browser
tests (each test opens its own context).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from frikomport.extensions import db
from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def migrated_app(data_dir: Path, **overrides):
    """An app on a fresh, migrated SQLite database, inside its app context."""
    app = make_app(f"sqlite:///{data_dir / 'browser.db'}", data_dir, WTF_CSRF_ENABLED=True,
                   **overrides)
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def serving(app, port: int = 0):
    """The app on a real HTTP server in a thread (on ``port``, or a free one); yields its
    base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_app(tmp_path):
    with migrated_app(tmp_path) as app:
        yield app


@pytest.fixture
def live_server(live_app):
    with serving(live_app) as url:
        yield url


class NorwegianBrowser:
    """The shared browser, whose pages ask for Norwegian (``Accept-Language: nb``) unless a
    test says otherwise: Chromium would ask for English, and the portal follows it."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        return self._browser.new_context(**{"locale": "nb-NO", **options})

    def new_page(self, **options):
        return self._browser.new_page(**{"locale": "nb-NO", **options})

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: `make test` should have installed it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield NorwegianBrowser(browser)
        browser.close()
