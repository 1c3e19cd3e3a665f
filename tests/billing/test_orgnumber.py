import pytest

from frikomport.billing.orgnumber import is_valid_org_number, normalise_org_number


def check_digit(first_eight: str) -> int:
    """An independent MOD11 computation, so the tests don't just restate the module."""
    remainder = sum(int(d) * w for d, w in zip(first_eight, (3, 2, 7, 6, 5, 4, 3, 2),
                                               strict=True)) % 11
    return {0: 0, 1: 10}.get(remainder, 11 - remainder)


@pytest.mark.parametrize("number", ["964338531", "987654325", "974760673", "923609016"])
def test_valid_numbers(number):
    assert check_digit(number[:8]) == int(number[8])  # the examples really are valid
    assert is_valid_org_number(number)


@pytest.mark.parametrize("number", [
    "964338532",        # wrong check digit
    "987654320",        # wrong check digit
    "96433853",         # eight digits
    "9643385310",       # ten digits
    "96433853A",        # a letter
    "NO964338531MVA",   # a VAT number is not an organisation number
    "964 338 531",      # canonical form only; normalise first
    "９６４３３８５３１",  # full-width digits are digits to str.isdigit, not to Brønnøysund
    "",
])
def test_invalid_numbers(number):
    assert not is_valid_org_number(number)


@pytest.mark.parametrize("last", range(10))
def test_remainder_ten_is_never_valid(last):
    """12345670 gives weighted sum 122, 122 % 11 = 1, check digit 10: no digit can follow."""
    assert check_digit("12345670") == 10
    assert not is_valid_org_number(f"12345670{last}")


def test_normalise_strips_spaces_only():
    assert normalise_org_number("964 338 531") == "964338531"
    assert normalise_org_number(" 987654325 ") == "987654325"
    for typed in ("NO964338531MVA", "NO 964 338 531", "964338531 MVA", "964-338-531",
                  "964 338 532"):
        with pytest.raises(ValueError, match="organisation number"):
            normalise_org_number(typed)
