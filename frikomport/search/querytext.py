"""What the user typed: loose words (all must match) and "quoted phrases"."""

from __future__ import annotations

import re
from dataclasses import dataclass

PHRASE = re.compile(r'"([^"]+)"')
MAX_WORDS = 12  # longer input is cut, so a pasted page cannot make a huge query


@dataclass(frozen=True)
class ParsedText:
    words: list[str]
    phrases: list[str]


def parse_query_text(text: str) -> ParsedText:
    phrases = [p.strip() for p in PHRASE.findall(text) if p.strip()]
    rest = PHRASE.sub(" ", text)
    loose = re.findall(r"\w+", rest)[:MAX_WORDS]
    return ParsedText(words=loose, phrases=phrases[:MAX_WORDS])
