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


@pytest.fixture
def backend(app, backend_name, tmp_path):
    if backend_name == "whoosh":
        return WhooshBackend(tmp_path / "index")
    return PostgresBackend(lambda: db.engine)
