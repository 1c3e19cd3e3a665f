"""Shared billing fixtures: a Kongsberg course with a fee that started three days ago,
and the EHF validator, loaded once for the whole session (compiling the CEN rules takes
about a second)."""

import pytest

from tests.billing.ehf_checks import Validator
from tests.factories import CourseFactory, in_days


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator()


@pytest.fixture
def course(kongsberg):
    return CourseFactory(organisation=kongsberg, title="Brannvern", fee_host_ore=100_000,
                         sessions=[in_days(-3)])
