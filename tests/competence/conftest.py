"""Fixtures of the external-certificate tests: a person, a competence and an upload
waiting for approval."""

from __future__ import annotations

import pytest

from tests.competence.builders import competence, records_of, upload
from tests.factories import member


@pytest.fixture
def person(kongsberg):
    return member(kongsberg, name="Ingrid Lie")


@pytest.fixture
def first_aid():
    return competence("Førstehjelp", months=24)


@pytest.fixture
def pending(client, login, person, first_aid):
    """Ingrid's uploaded certificate, waiting for approval (and the client logged out)."""
    login(person)
    assert upload(client, first_aid.id).status_code == 302
    client.post("/logout")
    return records_of(person)[0]
