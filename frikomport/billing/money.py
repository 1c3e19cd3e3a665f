"""Kroner as people type them, øre as we store them.

Fees are whole øre in the database (never floats). Organisers write "1200", "1 200",
"1200,50", "1 200.50 kr" or "kr 1200,-"; all are read the same way, and a form shows a
stored fee back the way the page's language writes numbers.
"""

from __future__ import annotations

import re

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from frikomport.billing.fees import MAX_FEE_ORE

_AMOUNT = re.compile(r"^(\d{1,9})(?:[.,](\d{1,2}))?$")
_DECORATION = re.compile(r"(?i)\s|kr\.?|nok|,-$|\.-$")


def parse_kroner(text: str) -> int:
    """Øre from what someone typed; ValueError when it is not an amount of money."""
    cleaned = _DECORATION.sub("", text or "")
    match = _AMOUNT.match(cleaned or "0")
    if not match:
        raise ValueError(text)
    kroner, ore = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(kroner) * 100 + int(ore)


def format_kroner(ore: int) -> str:
    """Øre as the number a person would type: "1200" or "1200,50" (in the page's way of
    writing decimals)."""
    if ore % 100 == 0:
        return str(ore // 100)
    return kroner_text(ore, get_decimal_symbol(get_locale()))


def kroner_text(ore: int, decimal_symbol: str) -> str:
    """A fee (not negative) with two decimals, as a spreadsheet reads a number:
    "1200,50", "1200,00"."""
    kroner, rest = divmod(ore, 100)
    return f"{kroner}{decimal_symbol}{rest:02d}"


class KronerField(StringField):
    """An amount in kroner (øre allowed) from 0 up to a million; ``data`` is øre."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        try:
            self.data = parse_kroner(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(_l("Write an amount in kroner, such as 1200 or 1200,50.")) from None
        if self.data > MAX_FEE_ORE:
            self.data = None
            raise ValueError(_l("The amount cannot be more than a million kroner."))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_kroner(self.data) if self.data is not None else ""
