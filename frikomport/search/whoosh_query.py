"""What the user typed as a Whoosh query, and the page of hits shown for it.

Matching (which documents, how many, facet counts) is done on document sets (see
:mod:`whoosh_searcher`); Whoosh scores only while picking the top of the ranking for the
page shown, so a broad word no longer costs a scored pass over every match.
"""

from __future__ import annotations

from bisect import bisect_left

from markupsafe import Markup, escape
from whoosh import collectors
from whoosh.highlight import ContextFragmenter, HtmlFormatter, get_text, htmlescape
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import And, Or, Phrase, Query, Term
from whoosh.searching import Results

from frikomport.search.analysis import fixed_point_stem, fold, terms
from frikomport.search.bitsets import ONE, BitsFilter, flags_of, ids_of
from frikomport.search.interface import SearchHit
from frikomport.search.querytext import parse_query_text
from frikomport.search.spelling import MAX_ONE_EDIT, edits1

FUZZY_MIN_LENGTH = 5
COMPOUND_MIN_LENGTH = 5
TEXT_FIELDS = {"title": 3.0, "text": 1.0}
FEW_MATCHES = 1000     # up to this many matches, score just them
BROAD_MATCHES = 2000  # from this many matches on, rank from the cached overall ranking
RANKED_DEPTH = 1000   # how far that overall ranking goes


def text_query(text: str, searcher):
    """All words (and phrases) must match; None if nothing but stop words was typed."""
    parsed = parse_query_text(text)
    clauses = [word_clause(word, searcher) for word in parsed.words]
    clauses += [phrase_clause(phrase, searcher) for phrase in parsed.phrases]
    clauses = [c for c in clauses if c is not None]
    return And(clauses) if clauses else None


def word_clause(word: str, searcher):
    if not terms(word):  # a stop word: it does not have to match
        return None
    folded = fold(word)
    stem = fixed_point_stem(folded)
    alternatives = [Term(field, stem, boost=boost) for field, boost in TEXT_FIELDS.items()]
    if (FUZZY_MIN_LENGTH <= len(folded) <= MAX_ONE_EDIT
            and not searcher.doc_frequency("exact", folded)):
        # A word the index does not know is taken for a typo: known words one edit
        # away (swapped letters included), the same rule as the PostgreSQL backend.
        reader = searcher.reader()
        known = {fixed_point_stem(c) for c in edits1(folded) if ("exact", c) in reader}
        alternatives += [Term(field, stem, boost=0.5 * boost)
                         for stem in sorted(known) for field, boost in TEXT_FIELDS.items()]
    # "barnehage(n)" finds "barnehageansatte": the stem begins a title word. (The stem
    # begins the word itself, so one term covers both; a very short stem is too
    # unspecific, and then the word is used.)
    beginning = stem if len(stem) >= COMPOUND_MIN_LENGTH else folded
    if len(beginning) >= COMPOUND_MIN_LENGTH:
        alternatives.append(Term("title_ngrams", beginning[:12], boost=0.7))
    return Or(alternatives)


def phrase_clause(phrase: str, searcher):
    stems = terms(phrase)
    if not stems:
        return None
    if len(stems) == 1:
        return word_clause(stems[0], searcher)
    return Or([Phrase(field, stems, boost=boost) for field, boost in TEXT_FIELDS.items()])


def top_ranked(generation, query, bits: int, limit: int, candidates: int) -> list[tuple]:
    """(score, docnum) of the best ``limit`` documents of the set, best first.

    ``candidates``: how many documents the words match before the viewer's filters.
    When the filters leave few of them, only those are scored. A broad query: its
    ranking over *all* viewers' documents is computed once per searcher and kept (a few
    queries); scores do not depend on who is searching, so that ranking filtered to this
    viewer's set is exactly this viewer's ranking, as far as it reaches. Otherwise every
    match is scored.
    """
    if not bits:
        return []
    searcher, size, count = generation.searcher, generation.size, bits.bit_count()
    if count <= FEW_MATCHES and count * 2 <= candidates:  # the filters removed most
        return _score_only(searcher, query, ids_of(bits), limit)
    if count >= BROAD_MATCHES and limit <= RANKED_DEPTH:
        ranking = generation.rankings.get(query, lambda: _exact_top(
            searcher, query, RANKED_DEPTH))
        flags = flags_of(bits, size)
        picked = [item for item in ranking if flags[item[1]] == ONE][:limit]
        if len(picked) == limit or len(ranking) < RANKED_DEPTH:  # complete so far
            return picked
    return _exact_top(searcher, query, limit, BitsFilter(bits, size))


def _exact_top(searcher, query, limit: int, allowed=None) -> list[tuple]:
    """The exact top ``limit``, every match scored.

    Whoosh's shortcuts (skipping posting blocks by quality, replacing matchers that
    "cannot" reach the top) are lossy with our Or-of-fields queries: measured, they drop
    a field's share of the score and rank documents wrongly. So they stay off.
    """
    collector = collectors.TopCollector(limit, usequality=False, replace=0)
    if allowed is not None:
        collector = collectors.FilterCollector(collector, allow=allowed)
    searcher.search_with_collector(query, collector)
    return collector.results().top_n


def _score_only(searcher, query, docnums: list[int], limit: int) -> list[tuple]:
    """Score just these documents: ANDed with them, Whoosh skips through the postings
    to each one instead of visiting every document that has one of the words."""
    return _exact_top(searcher, And([query, OnlyDocs(docnums)]), limit)


class OnlyDocs(Query):
    """Matches exactly these (index-wide) document numbers, adding nothing to the score.

    Block-quality skipping and matcher replacement must stay off with it (they are, in
    :func:`_exact_top`): its matcher's "quality" says nothing about its (zero) score.
    """

    def __init__(self, docnums: list[int]):
        self.docnums = docnums  # ascending

    def __eq__(self, other):
        return type(other) is OnlyDocs and other.docnums == self.docnums

    def __hash__(self):
        return hash(tuple(self.docnums))

    def is_leaf(self) -> bool:
        return True

    def estimate_size(self, ixreader) -> int:
        return len(self.docnums)

    def estimate_min_size(self, ixreader) -> int:
        return len(self.docnums)

    def matcher(self, searcher, context=None):
        offset = 0
        if searcher.has_parent():  # one segment of several: its own docnums
            offset = searcher.get_parent()._offset_for_subsearcher(searcher)
        low = bisect_left(self.docnums, offset)
        high = bisect_left(self.docnums, offset + searcher.doc_count_all())
        local = [docnum - offset for docnum in self.docnums[low:high]]
        return ZeroScoreMatcher(local) if local else NullMatcher()


class ZeroScoreMatcher(ListMatcher):
    """A list of documents that adds 0 to a score (ListMatcher would add its weight, 1)."""

    def score(self) -> float:
        return 0.0


def page_hits(searcher, query, top_n: list[tuple], start: int) -> list[SearchHit]:
    """Hits for ``top_n[start:]`` with highlighted snippets."""
    results = Results(searcher, query, top_n)
    results.formatter = MarkFormatter(between=" … ")
    results.fragmenter = ContextFragmenter(maxchars=220, surround=60)
    return [_hit(results[i]) for i in range(start, len(top_n))]


def _hit(hit) -> SearchHit:
    # The formatter escapes the text around the matches: this is where the snippet's
    # markup is made, so this is where it is marked safe.
    snippet = Markup(hit.highlights("text", top=2))
    if not snippet:
        snippet = escape(hit.get("summary") or hit.get("text", "")[:220])
    return SearchHit(course_id=hit["course_id"], title=hit["title"], snippet=snippet,
                     score=hit.score or 0.0)


class MarkFormatter(HtmlFormatter):
    """Matches as plain ``<mark>``; the text around them is HTML-escaped."""

    def format_token(self, text, token, replace=False):
        return f"<mark>{htmlescape(get_text(text, token, replace))}</mark>"
