"""Whoosh backend (whoosh-reloaded 2.7.5): the embedded default, one index directory.

Facts from ../shared/SEARCH.md this follows:
- never ``Searcher.refresh()`` (stale/duplicated results): one searcher per process,
  shared by its threads, reopened when ``up_to_date()`` is False (whoosh_searcher.py);
- one writer at a time with a lock timeout (the indexer is the only writer);
- typeahead on an edge n-gram field, not prefix queries; fuzzy matching with maxdist 1;
- rebuilds go into a new directory and ``current`` (a symlink) is swapped atomically.

Totals and facet counts are exact but computed on document sets (bitsets.py), without
scoring; only the top of the ranking for the page shown is scored (whoosh_query.py).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.query import Every

from frikomport.db import utcnow
from frikomport.search.analysis import (
    SUGGESTION_POOL,
    edge_ngram_analyzer,
    exact_analyzer,
    norwegian_analyzer,
    spell_analyzer,
    typed_beginnings_first,
    words,
)
from frikomport.search.interface import (
    FACETS,
    CourseDocument,
    IndexUnavailable,
    SearchQuery,
    SearchResults,
    Suggestion,
    Viewer,
)
from frikomport.search.whoosh_query import page_hits, text_query, top_ranked
from frikomport.search.whoosh_searcher import Generation, SharedSearcher, open_index

WRITE_LOCK_TIMEOUT = 30.0
SCHEMA_VERSION = 3  # raise when the schema changes: older indexes are then rebuilt
INDEX_PREFIX = f"index-v{SCHEMA_VERSION}-"
SELECTABLE = ("organisation", "category", "service_area", "month")


def schema() -> Schema:
    stemmed = norwegian_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        course_id=NUMERIC(int, stored=True),
        organisation_id=NUMERIC(int),
        organisation=ID(sortable=True),
        visibility=ID,
        category=ID(sortable=True),
        service_area=ID(sortable=True),
        month=ID(sortable=True),
        free_seats=ID(sortable=True),
        starts_at=DATETIME(sortable=True),
        ends_at=DATETIME(sortable=True),
        title=TEXT(analyzer=stemmed, stored=True),
        # Summary and description in one field: fewer posting lists to merge per query.
        text=TEXT(analyzer=stemmed, stored=True),
        summary=STORED,
        exact=TEXT(analyzer=exact_analyzer()),
        spell=TEXT(analyzer=spell_analyzer(), spelling=True),
        title_ngrams=TEXT(analyzer=edge_ngram_analyzer(), phrase=False),
        title_display=STORED,
    )


def _fields(document: CourseDocument) -> dict:
    words_text = " ".join([document.title, document.summary, document.body,
                           document.category, document.service_area,
                           document.organisation_name])
    return {
        "id": str(document.course_id), "course_id": document.course_id,
        "organisation_id": document.organisation_id,
        "organisation": document.organisation_slug, "visibility": document.visibility,
        "category": document.category, "service_area": document.service_area,
        "month": document.month, "free_seats": "1" if document.free_seats else "0",
        "starts_at": _naive(document.starts_at), "ends_at": _naive(document.ends_at),
        "title": document.title, "summary": document.summary,
        "text": "\n".join([document.summary, document.body, document.category,
                           document.service_area, document.organisation_name]),
        "exact": words_text, "spell": f"{document.title} {document.summary}",
        "title_ngrams": document.title, "title_display": document.title,
    }


def _naive(value: datetime) -> datetime:
    """Whoosh DATETIME fields are naive; we store UTC."""
    return value.astimezone(UTC).replace(tzinfo=None)


class WhooshBackend:
    name = "whoosh"

    def __init__(self, root: str | Path, clock: Callable[[], datetime] = utcnow):
        self.root = Path(root)
        self._clock = clock  # "now" when a query has none (injectable for tests)
        self._shared = SharedSearcher(self._current_dir)
        self._write_lock = threading.Lock()

    # Opening -------------------------------------------------------------------------

    @property
    def current_link(self) -> Path:
        return self.root / "current"

    def _current_dir(self) -> Path:
        try:
            directory = self.current_link.resolve(strict=True)
        except (FileNotFoundError, RuntimeError) as exc:
            raise IndexUnavailable("no search index yet") from exc
        if not directory.name.startswith(INDEX_PREFIX):
            raise IndexUnavailable("the index was built by an older version")
        return directory

    def close(self) -> None:
        """Close the process's searcher (the next search opens a new one)."""
        self._shared.close()

    def stats(self) -> dict[str, int]:
        """Searchers opened so far and cache sizes: what keeps memory flat."""
        return self._shared.stats()

    # Writing ---------------------------------------------------------------------------

    def update(self, documents: Iterable[CourseDocument], deleted: Iterable[int]) -> None:
        documents, deleted = list(documents), list(deleted)
        if not documents and not deleted:
            return
        ix = open_index(self._current_dir())
        with self._write_lock, ix.writer(timeout=WRITE_LOCK_TIMEOUT) as writer:
            for course_id in deleted:
                writer.delete_by_term("id", str(course_id))
            for document in documents:
                writer.update_document(**_fields(document))

    def rebuild(self, documents: Iterable[CourseDocument]) -> int:
        """Index into a fresh directory, then point ``current`` at it in one rename."""
        self.root.mkdir(parents=True, exist_ok=True)
        directory = self.root / f"{INDEX_PREFIX}{time.time_ns()}"
        directory.mkdir()
        ix = index.create_in(str(directory), schema())
        count = 0
        with ix.writer(limitmb=256) as writer:
            for document in documents:
                writer.add_document(**_fields(document))
                count += 1
        temporary = self.root / f"current.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(directory.name)
        os.replace(temporary, self.current_link)
        self._remove_old(keep={directory})
        return count

    def _remove_old(self, keep: set[Path]) -> None:
        """Keep the new index and the one before it (open searchers may still read it)."""
        candidates = sorted(self.root.glob("index-*"), key=lambda p: p.name, reverse=True)
        for old in candidates[2:]:
            if old not in keep:
                shutil.rmtree(old, ignore_errors=True)

    # Reading ---------------------------------------------------------------------------

    def _allowed(self, generation: Generation, query: SearchQuery) -> int:
        """The documents this viewer may see with these facet selections, and — unless
        earlier courses are included — not yet ended. Independent of the search words."""
        bits = _visible(generation, query.viewer)
        for field in SELECTABLE:
            if value := getattr(query, field):
                bits &= generation.value_bits(field).get(value, 0)
        if query.free_seats:
            bits &= generation.value_bits("free_seats").get("1", 0)
        if not query.include_past:
            minute = (query.now or self._clock()).replace(second=0, microsecond=0)
            bits &= generation.not_ended(_naive(minute))
        return bits

    def search(self, query: SearchQuery) -> SearchResults:
        with self._shared.generation() as generation:
            return self._search(generation, query)

    def _search(self, generation: Generation, query: SearchQuery) -> SearchResults:
        searcher = generation.searcher
        words_query = text_query(query.text, searcher) if query.text.strip() else None
        allowed = self._allowed(generation, query)
        candidates = allowed if words_query is None else generation.matches(words_query)
        matched = candidates & allowed
        page = max(query.page, 1)
        start = (page - 1) * query.per_page
        if words_query is None or query.sort == "date":
            top_n = [(None, d) for d in generation.by_date(matched, 0, start + query.per_page)]
        else:
            top_n = top_ranked(generation, words_query, matched, start + query.per_page,
                               candidates.bit_count())
        hits = page_hits(searcher, words_query or Every(), top_n, start)
        suggestion = (self._did_you_mean(generation, query, allowed)
                      if not matched and words_query is not None else None)
        return SearchResults(hits=hits, total=matched.bit_count(), page=query.page,
                             per_page=query.per_page, facets=_facets(generation, matched),
                             suggestion=suggestion)

    def _did_you_mean(self, generation: Generation, query: SearchQuery,
                      allowed: int) -> str | None:
        """A corrected query, offered only if it finds something this viewer may see
        (the spelling dictionary covers every course, so it must not leak words)."""
        searcher = generation.searcher
        corrector = searcher.corrector("spell")
        corrected, changed = [], False
        for word in query.text.lower().split():
            clean = "".join(ch for ch in word if ch.isalnum())
            if len(clean) < 4 or searcher.doc_frequency("spell", clean):
                corrected.append(word)
                continue
            suggestions = corrector.suggest(clean, limit=1, maxdist=2, prefix=1)
            corrected.append(suggestions[0] if suggestions else word)
            changed |= bool(suggestions)
        if not changed:
            return None
        suggestion = " ".join(corrected)
        retry = text_query(suggestion, searcher)
        if retry is None or not generation.matches(retry) & allowed:
            return None
        return suggestion

    def suggest(self, prefix: str, viewer: Viewer, limit: int = 8,
                now: datetime | None = None) -> list[Suggestion]:
        typed = words(prefix)
        if not typed or len(typed[-1]) < 2:
            return []
        with self._shared.generation() as generation:
            bits = self._allowed(generation, SearchQuery(text="", viewer=viewer, now=now))
            for word in typed:
                bits &= generation.term_bits("title_ngrams", word[:12])
            found = [generation.searcher.stored_fields(docnum) for docnum in
                     generation.by_date(bits, 0, limit * SUGGESTION_POOL)]
        return typed_beginnings_first(prefix, [Suggestion(
            course_id=fields["course_id"], title=fields["title_display"])
            for fields in found], limit)

    def health(self) -> dict:
        try:
            with self._shared.generation() as generation:
                documents = generation.searcher.doc_count()
        except IndexUnavailable as error:
            return {"backend": self.name, "ok": False, "error": str(error)}
        return {"backend": self.name, "ok": True, "documents": documents,
                "directory": str(self._current_dir()), **self.stats()}


def _visible(generation: Generation, viewer: Viewer) -> int:
    """Visibility applied inside the adapter, on every query (see SEARCH.md)."""
    if viewer.site_admin:
        return generation.all_bits()
    visibility = generation.value_bits("visibility")
    bits = visibility.get("public", 0)
    if viewer.organisation_ids:
        own = 0
        for organisation_id in viewer.organisation_ids:
            own |= generation.organisation_bits(organisation_id)
        bits |= visibility.get("region", 0) | (visibility.get("internal", 0) & own)
    return bits


def _facets(generation: Generation, matched: int) -> dict[str, dict[str, int]]:
    """Exact counts: each facet value's documents intersected with the matches."""
    facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    if not matched:
        return facets
    for facet in FACETS:
        for value, bits in generation.value_bits(facet).items():
            if value and (count := (bits & matched).bit_count()):
                facets[facet][value] = count
    return facets
