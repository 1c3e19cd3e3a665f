"""Test fixtures: every database test runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set. In CI (CI=true) a missing TEST_DATABASE_URL is an error,
and an unreachable server fails the tests rather than skipping them.
"""

from __future__ import annotations

import contextvars
import os
import re
import tempfile

import flask
import flask.globals
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from frikomport import create_app
from frikomport.extensions import db
from tests.factories import DEFAULT_PASSWORD, OrganisationFactory
from tests.mailserver import smtp_receiver  # noqa: F401  (a fixture for every mail test)
from tests.routing_cache import install as cache_url_rule_builders

# Keep anything the app writes by default (e.g. the development secret key) out of the repo.
os.environ["FRIKOMPORT_DATA_DIR"] = tempfile.mkdtemp(prefix="frikomport-test-")
cache_url_rule_builders()  # most tests build an app of their own: see tests/routing_cache.py

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_configure(config):
    if os.environ.get("CI") and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("CI must set TEST_DATABASE_URL: PostgreSQL tests may not be "
                                "skipped there.")


def _postgres_url(raw: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", raw)


def _create_database_if_missing(url: str) -> None:
    """CI's server may not have the database yet: create it from the maintenance one."""
    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                   {"name": target.database})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()


def _reset_postgres(url: str) -> None:
    _create_database_if_missing(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def settings(database_url: str, data_dir, **overrides) -> dict:
    values = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATA_DIR": str(data_dir),
        "MAIL_BACKEND": "log",
        "MAIL_FOLDER": str(data_dir / "mail"),
        "SEARCH_INDEX_DIR": str(data_dir / "search"),
        "SEARCH_IN_PROCESS": False,
        "OUTBOX_IN_PROCESS": False,
        "HOUSEKEEPING_IN_PROCESS": False,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "https://kurs.example.org",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
    }
    values.update(overrides)
    return values


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database per backend (tests are grouped by backend)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = _postgres_url(os.environ["TEST_DATABASE_URL"])
        _reset_postgres(url)
    app = create_app(settings(url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server would.

    The test itself holds an app context (for factories and assertions); Flask would
    otherwise reuse it for requests, sharing ``g`` (the logged-in user cache) and the
    database session between requests. After each request the test's session ends its
    transaction so that it sees what the request committed.
    """

    def open(self, *args, **kwargs):
        def run():
            flask.globals._cv_app.set(None)
            return super(IsolatedClient, self).open(*args, **kwargs)

        response = contextvars.copy_context().run(run)
        if flask.has_app_context():
            db.session.commit()
        return response


_SEQUENCES: dict[str, list[str]] = {}


def _sequences(connection) -> list[str]:
    """The sequences behind the tables' generated ids (PostgreSQL), looked up once per
    database."""
    key = connection.engine.url.render_as_string(hide_password=False)
    if key not in _SEQUENCES:
        _SEQUENCES[key] = [name for table in db.metadata.sorted_tables
                           for column in table.primary_key.columns
                           if (name := connection.scalar(
                               text("SELECT pg_get_serial_sequence(:table, :column)"),
                               {"table": f'"{table.name}"', "column": column.name}))]
    return _SEQUENCES[key]


def _wipe(engine) -> None:
    """Empty every table, and on PostgreSQL start the ids from 1 again.

    DELETE rather than TRUNCATE: on tables this small, TRUNCATE ... RESTART IDENTITY
    (new files for every table and index, then an fsync) took ~0.8 s a test against
    ~0.04 s, and every PostgreSQL test wipes. Resetting the sequences keeps what
    RESTART IDENTITY gave (ids start at 1 in every test)."""
    tables = list(reversed(db.metadata.sorted_tables))
    with engine.begin() as connection:
        for table in tables:
            connection.execute(table.delete())
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(name, 1, false) FROM "
                                    "unnest(CAST(:names AS text[])) AS name"),
                               {"names": _sequences(connection)})


def make_app(database_url: str, data_dir, **overrides):
    app = create_app(settings(database_url, data_dir, **overrides))
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app_factory(database_url, tmp_path):
    """Build an app with extra settings (e.g. CSRF or rate limiting switched on)."""
    created = []

    def build(**overrides):
        app = make_app(database_url, tmp_path, **overrides)
        created.append(app)
        return app

    yield build
    for app in created:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        _wipe(db.engine)
        db.engine.dispose()


@pytest.fixture
def client(app) -> IsolatedClient:
    return app.test_client()


@pytest.fixture
def login(client):
    """Log a user in through the real login form."""

    def do_login(user, password: str = DEFAULT_PASSWORD, test_client=None):
        response = (test_client or client).post(
            "/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.text
        return response

    return do_login


@pytest.fixture
def kongsberg(app):
    return OrganisationFactory(slug="kongsberg", name="Kongsberg kommune")


@pytest.fixture
def notodden(app):
    return OrganisationFactory(slug="notodden", name="Notodden kommune")


@pytest.fixture
def flesberg(app):
    return OrganisationFactory(slug="flesberg", name="Flesberg kommune")
