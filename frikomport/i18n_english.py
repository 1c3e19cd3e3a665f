"""Keep the English catalogue complete: the msgids are written in English, so each English
translation starts as its msgid (and can then be edited like any other). Run by
``make messages`` after the catalogues are updated: ``python -m frikomport.i18n_english``."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).parent / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def fill_english(path: Path = CATALOGUE) -> int:
    """Give every untranslated or fuzzy entry its msgid; return how many were filled."""
    with open(path, "rb") as f:
        catalogue = read_po(f, locale="en")
    filled = 0
    for message in catalogue:
        strings = message.string if message.pluralizable else [message.string]
        if message.id and (message.fuzzy or not all(strings)):
            message.string = tuple(message.id) if message.pluralizable else message.id
            message.flags.discard("fuzzy")
            filled += 1
    with open(path, "wb") as f:
        write_po(f, catalogue, width=100, ignore_obsolete=True)
    return filled


if __name__ == "__main__":
    print(f"English: {fill_english()} entries filled from their msgids", file=sys.stderr)
