"""Norwegian text analysis shared by every search backend.

Pipeline: words → lower case → stop words (Bokmål, Nynorsk, English) → fold æ/ø/å and
accents (so "forstehjelp" finds "førstehjelp") → Snowball Norwegian stemming repeated
until the stem no longer changes.

Why repeat: Snowball alone stems "kurs"→"kur" but "kurset"→"kurs", and
"sykepleier"→"sykeplei" but "sykepleiere"→"sykepleier", so a word and its own
inflections would not match. Stemming to a fixed point makes them meet ("kurset"→
"kurs"→"kur"), and the resulting stems are stable under PostgreSQL's ``norwegian``
configuration too, so both backends see exactly the same terms.
"""

from __future__ import annotations

from functools import lru_cache

from whoosh.analysis import (
    CharsetFilter,
    Filter,
    LowercaseFilter,
    NgramFilter,
    RegexTokenizer,
    StopFilter,
)
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

WORD = r"\w+"
# whoosh's accent_map folds ø→o and å→a but leaves æ alone.
FOLD_MAP = dict(accent_map) | {ord("æ"): "ae", ord("Æ"): "ae"}
ENGLISH_STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of",
    "on", "or", "the", "to", "with",
})
STOP_WORDS = frozenset(stopwords_for_language("no")) | ENGLISH_STOP_WORDS
_stem = stemmer_for_language("no")


@lru_cache(maxsize=200_000)
def fixed_point_stem(word: str) -> str:
    for _ in range(4):
        stemmed = _stem(word)
        if stemmed == word:
            break
        word = stemmed
    return word


def fold(text: str) -> str:
    return text.lower().translate(FOLD_MAP)


class FixedPointStemFilter(Filter):
    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                token.text = fixed_point_stem(token.text)
            yield token


def norwegian_analyzer():
    """Stemmed, folded terms: what documents and queries are matched on."""
    return (RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)
            | CharsetFilter(FOLD_MAP) | FixedPointStemFilter())


def exact_analyzer():
    """Folded but unstemmed words: exact matches rank higher, and typos are corrected."""
    return RegexTokenizer(WORD) | LowercaseFilter() | CharsetFilter(FOLD_MAP)


def spell_analyzer():
    """Lower-case words as written (æ/ø/å kept), for readable "did you mean" suggestions."""
    return RegexTokenizer(WORD) | LowercaseFilter()


def edge_ngram_analyzer():
    """Word beginnings (2–12 letters) of titles, for the typeahead. Stop words are left
    out: folded, "før" would otherwise suggest every title containing "for"."""
    return (RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)
            | CharsetFilter(FOLD_MAP) | NgramFilter(minsize=2, maxsize=12, at="start"))


_ANALYZER = norwegian_analyzer()
_EXACT = exact_analyzer()
_CONTENT_WORDS = (RegexTokenizer(WORD) | LowercaseFilter()
                  | StopFilter(stoplist=STOP_WORDS, minsize=1) | CharsetFilter(FOLD_MAP))


def terms(text: str) -> list[str]:
    """The stemmed terms of a text, in order (stop words removed)."""
    return [token.text for token in _ANALYZER(text or "")]


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return [token.text for token in _EXACT(text or "")]


def content_words(text: str) -> list[str]:
    """The folded words of a text without stop words (what title n-grams are made of)."""
    return [token.text for token in _CONTENT_WORDS(text or "")]


_AS_WRITTEN = spell_analyzer()
SUGGESTION_POOL = 4  # candidates fetched per suggestion shown, before ranking


def typed_beginnings_first(prefix: str, suggestions: list, limit: int) -> list:
    """Suggestions (soonest first) with those whose title has a word beginning with each
    typed word *as typed* moved to the front: "før" matches "forstår" only once ø is
    folded to o, so "Førstehjelp" must come before "Klarspråk – skriv så folk forstår".
    Both backends rank with this, so they suggest the same titles in the same order."""
    typed = [token.text for token in _AS_WRITTEN(prefix)]

    def begins_as_typed(suggestion) -> bool:
        title_words = [token.text for token in _AS_WRITTEN(suggestion.title)]
        return all(any(word.startswith(part) for word in title_words) for part in typed)

    return sorted(suggestions, key=lambda suggestion: not begins_as_typed(suggestion))[:limit]

