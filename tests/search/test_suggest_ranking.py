"""Typeahead ranking: a title word that begins with what was typed, letter for letter,
comes before a match found only by folding æ/ø/å — the same on every backend."""

from __future__ import annotations

import pytest

from frikomport.search.analysis import typed_beginnings_first
from frikomport.search.interface import Suggestion
from tests.search.conftest import BACKENDS
from tests.search.test_contract import ANONYMOUS, NOW, doc

CATALOGUE = [
    # Sooner, but "før" matches "forstår" only once ø is folded to o.
    doc(9, "Klarspråk – skriv så folk forstår", days=3),
    doc(1, "Førstehjelp for ansatte i barnehage", days=5),
    doc(2, "Forebygging av fall", days=7),
]


@BACKENDS
@pytest.mark.parametrize(("typed", "expected"), [
    ("før", [1, 9, 2]),
    ("for", [9, 1, 2]),      # as typed, "for" begins a word of each: soonest first
    ("førstehj", [1]),
])
def test_word_beginning_as_typed_comes_first(backend, typed, expected):
    backend.rebuild(CATALOGUE)
    assert [s.course_id for s in backend.suggest(typed, ANONYMOUS, now=NOW)] == expected


@BACKENDS
def test_limit_applies_after_ranking(backend):
    backend.rebuild([doc(n, f"Forvaltning {n}", days=n) for n in range(10, 20)]
                    + [doc(1, "Førstehjelp", days=30)])
    suggestions = backend.suggest("før", ANONYMOUS, limit=3, now=NOW)
    assert [s.course_id for s in suggestions] == [1, 10, 11]


def test_ranking_keeps_order_within_each_group():
    found = [Suggestion(1, "Forstå budsjettet"), Suggestion(2, "Før og etter"),
             Suggestion(3, "Forarbeid"), Suggestion(4, "Førstehjelp")]
    assert [s.course_id for s in typed_beginnings_first("Før", found, 3)] == [2, 4, 1]
