"""Norwegian organisation numbers (organisasjonsnummer) from Enhetsregisteret.

An EHF document names both parties by organisation number (scheme 0192), and the PEPPOL
rule PEPPOL-COMMON-R041 rejects a number that is not nine digits with a valid MOD11 check
digit. Checking here lets a typo be refused when it is typed, not when the buyer's access
point bounces the invoice days later.
"""

from __future__ import annotations

WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def is_valid_org_number(value: str) -> bool:
    """True for exactly nine ASCII digits whose last digit is the MOD11 check digit.

    The check digit is ``11 - (weighted sum % 11)``, where 11 means 0; a remainder that gives
    10 cannot be a check digit, so Brønnøysund never issues such numbers. Only the canonical
    form is accepted (no spaces): use :func:`normalise_org_number` on what a person typed.
    """
    if not (isinstance(value, str) and len(value) == 9 and value.isascii() and value.isdigit()):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:8], WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[8])


def normalise_org_number(value: str) -> str:
    """The nine digits of a typed number such as ``"964 338 531"``, or ValueError.

    Only spaces are removed. A VAT number (``NO964338531MVA``) is refused rather than
    trimmed: it is a different identifier (BT-31, only for VAT-registered sellers), and
    quietly accepting it where an organisation number belongs would hide the mix-up.
    """
    digits = "".join(str(value).split(" "))
    if not is_valid_org_number(digits):
        raise ValueError(f"Not a valid Norwegian organisation number: {value!r} "
                         "(nine digits with a MOD11 check digit)")
    return digits
