"""The EHF validator is loaded once for the whole session (compiling the CEN rules
takes about a second)."""

import pytest

from tests.billing.ehf_checks import Validator


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator()
