"""Backends under test: Whoosh on SQLite always, and the PostgreSQL backend when
TEST_DATABASE_URL is set (it needs a PostgreSQL database)."""

from __future__ import annotations

import os

import pytest

from frikomport.extensions import db
from frikomport.search.postgres_backend import PostgresBackend
from frikomport.search.whoosh_backend import WhooshBackend

COMBOS = [("sqlite", "whoosh")] + (
    [("postgresql", "postgresql")] if os.environ.get("TEST_DATABASE_URL") else [])

# Use as: pytestmark = BACKENDS — overrides the plain database_url parametrisation.
BACKENDS = pytest.mark.parametrize(("database_url", "backend_name"), COMBOS,
                                   indirect=["database_url"], ids=[b for _, b in COMBOS])


# For behaviour only the Whoosh backend has (index files that can go missing or break).
WHOOSH_ONLY = pytest.mark.parametrize(("database_url", "backend_name"), [("sqlite", "whoosh")],
                                      indirect=["database_url"], ids=["whoosh"])


@pytest.fixture
def portal(app, backend_name):
    """The app, searching with the backend under test."""
    app.config["SEARCH_BACKEND"] = backend_name
    return app


@pytest.fixture
def backend(app, backend_name, tmp_path):
    if backend_name == "whoosh":
        return WhooshBackend(tmp_path / "index")
    return PostgresBackend(lambda: db.engine)
