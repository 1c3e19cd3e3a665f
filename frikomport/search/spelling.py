"""Edit-distance candidates against a vocabulary (used where the backend has no fuzzy
matching of its own)."""

from __future__ import annotations

from collections.abc import Iterable

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# Candidates grow with word length (two edits: ~(54n)² of them); real words are short,
# so longer input is not corrected at all — it would only cost time.
MAX_ONE_EDIT = 30
MAX_TWO_EDITS = 14


def edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in ALPHABET]
    inserts = [a + c + b for a, b in splits for c in ALPHABET]
    return set(deletes + transposes + replaces + inserts)


def within_one(word: str, vocabulary: Iterable[str] | set[str]) -> set[str]:
    if len(word) > MAX_ONE_EDIT:
        return set()
    return {candidate for candidate in edits1(word) if candidate in vocabulary}


def best_correction(word: str, frequencies: dict[str, int]) -> str | None:
    """The most frequent known word within two edits, or None."""
    near = within_one(word, frequencies)
    if not near and len(word) <= MAX_TWO_EDITS:
        near = {c2 for c1 in edits1(word) for c2 in edits1(c1) if c2 in frequencies}
    return max(near, key=lambda w: (frequencies[w], w)) if near else None
