"""Whoosh backend (whoosh-reloaded 2.7.5): the embedded default, one index directory.

Facts from ../shared/SEARCH.md this follows:
- never ``Searcher.refresh()`` (stale/duplicated results); each thread keeps a searcher
  and opens a new one when ``up_to_date()`` is False;
- one writer at a time with a lock timeout (the indexer is the only writer);
- typeahead on an edge n-gram field, not prefix queries; fuzzy matching with maxdist 1;
- rebuilds go into a new directory and ``current`` (a symlink) is swapped atomically.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup, escape
from whoosh import collectors, index
from whoosh.collectors import WrappingCollector
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter, get_text, htmlescape
from whoosh.query import And, Every, NumericRange, Or, Phrase, Term

from frikomport.db import utcnow
from frikomport.search.analysis import (
    SUGGESTION_POOL,
    edge_ngram_analyzer,
    exact_analyzer,
    fixed_point_stem,
    fold,
    norwegian_analyzer,
    spell_analyzer,
    terms,
    typed_beginnings_first,
    words,
)
from frikomport.search.interface import (
    FACETS,
    CourseDocument,
    IndexUnavailable,
    SearchHit,
    SearchQuery,
    SearchResults,
    Suggestion,
    Viewer,
)
from frikomport.search.querytext import parse_query_text
from frikomport.search.spelling import MAX_ONE_EDIT, edits1

WRITE_LOCK_TIMEOUT = 30.0
FUZZY_MIN_LENGTH = 5
FILTER_CACHE_SIZE = 256
SCHEMA_VERSION = 3  # raise when the schema changes: older indexes are then rebuilt
INDEX_PREFIX = f"index-v{SCHEMA_VERSION}-"
COMPOUND_MIN_LENGTH = 5
TEXT_FIELDS = {"title": 3.0, "text": 1.0}


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


class MarkFormatter(HtmlFormatter):
    """Matches as plain ``<mark>``; the text around them is HTML-escaped."""

    def format_token(self, text, token, replace=False):
        return f"<mark>{htmlescape(get_text(text, token, replace))}</mark>"


class WhooshBackend:
    name = "whoosh"

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._local = threading.local()
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

    def _index(self, directory: Path):
        try:
            opened = index.open_dir(str(directory))
        except Exception as exc:  # EmptyIndexError, corrupt TOC, missing segment files
            raise IndexUnavailable(f"cannot open search index: {exc}") from exc
        return opened

    def searcher(self):
        """This thread's searcher, reopened when the index changed or was swapped."""
        directory = self._current_dir()
        local = self._local
        if getattr(local, "directory", None) != directory:
            self._close_local()
            local.index = self._index(directory)
            local.directory = directory
            local.searcher = local.index.searcher()
            self._new_generation()
        elif not local.searcher.up_to_date():
            old, local.searcher = local.searcher, local.index.searcher()
            self._new_generation()
            old.close()
        return local.searcher

    def _new_generation(self) -> None:
        """Docnums belong to one searcher generation: drop everything derived from them."""
        self._local.visible = {}
        self._local.current = {}
        self._local.columns = None

    def _close_local(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
        self._local.__dict__.clear()

    # Writing ---------------------------------------------------------------------------

    def update(self, documents: Iterable[CourseDocument], deleted: Iterable[int]) -> None:
        documents, deleted = list(documents), list(deleted)
        if not documents and not deleted:
            return
        ix = self._index(self._current_dir())
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

    def _visibility(self, viewer: Viewer):
        if viewer.site_admin:
            return None
        allowed = [Term("visibility", "public")]
        if viewer.organisation_ids:
            allowed.append(Term("visibility", "region"))
            allowed.append(And([Term("visibility", "internal"),
                                Or([NumericRange("organisation_id", org, org)
                                    for org in sorted(viewer.organisation_ids)])]))
        return Or(allowed)

    def _filter_docs(self, searcher, query: SearchQuery) -> set[int]:
        """The documents this viewer may see with these facet selections, not yet ended.

        Independent of the search words. Visibility and facets are computed by Whoosh once
        per searcher generation; "not yet ended" changes with time and is derived from the
        decoded ``ends_at`` column per minute (a list scan, not a date-range query).
        """
        viewer = query.viewer
        key = (viewer.site_admin, viewer.organisation_ids, query.organisation, query.category,
               query.service_area, query.month, query.free_seats)
        visible, current = self._local.visible, self._local.current
        if key not in visible:
            if len(visible) >= FILTER_CACHE_SIZE:
                visible.clear()
            visible[key] = set(searcher.docs_for_query(self._filter(query)))
        minute = (query.now or utcnow()).replace(second=0, microsecond=0)
        if (key, minute) not in current:
            if len(current) >= FILTER_CACHE_SIZE:
                current.clear()
            ends, threshold = self._columns()["ends_at"], _naive(minute)
            # A plain set: what Whoosh accepts as a filter (it only reads it).
            current[(key, minute)] = {d for d in visible[key] if ends[d] >= threshold}
        return current[(key, minute)]

    def _filter(self, query: SearchQuery):
        """Visibility and facet selections as a Whoosh query (no time condition)."""
        parts = [Every()]
        if visibility := self._visibility(query.viewer):
            parts.append(visibility)
        for field, value in (("organisation", query.organisation), ("category", query.category),
                             ("service_area", query.service_area), ("month", query.month)):
            if value:
                parts.append(Term(field, value))
        if query.free_seats:
            parts.append(Term("free_seats", "1"))
        return And(parts)

    def _text_query(self, text: str, searcher):
        parsed = parse_query_text(text)
        clauses = [self._word_clause(word, searcher) for word in parsed.words]
        clauses += [self._phrase_clause(phrase, searcher) for phrase in parsed.phrases]
        clauses = [c for c in clauses if c is not None]
        return And(clauses) if clauses else None

    def _word_clause(self, word: str, searcher):
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

    def _phrase_clause(self, phrase: str, searcher):
        stems = terms(phrase)
        if not stems:
            return None
        if len(stems) == 1:
            return self._word_clause(stems[0], searcher)
        return Or([Phrase(field, stems, boost=boost) for field, boost in TEXT_FIELDS.items()])

    def search(self, query: SearchQuery) -> SearchResults:
        searcher = self.searcher()
        text_query = self._text_query(query.text, searcher) if query.text.strip() else None
        if text_query is None:  # no words (or only stop words): everything allowed
            text_query = Every()
        allowed = self._filter_docs(searcher, query)
        page = max(query.page, 1)
        by_date = query.sort == "date" or isinstance(text_query, Every)
        top, matched = _search_recording(searcher, text_query, allowed, page * query.per_page,
                                         "starts_at" if by_date else None)
        start = (page - 1) * query.per_page
        hits = [self._hit(hit) for hit in top[start:start + query.per_page]]
        suggestion = (self._did_you_mean(searcher, query, allowed)
                      if not matched and query.text.strip() else None)
        return SearchResults(hits=hits, total=len(matched), page=query.page,
                             per_page=query.per_page, facets=self._facets(matched),
                             suggestion=suggestion)

    def _hit(self, hit) -> SearchHit:
        hit.results.formatter = MarkFormatter(between=" … ")
        hit.results.fragmenter = ContextFragmenter(maxchars=220, surround=60)
        # The formatter escapes the text around the matches: this is where the snippet's
        # markup is made, so this is where it is marked safe.
        snippet = Markup(hit.highlights("text", top=2))
        if not snippet:
            snippet = escape(hit.get("summary") or hit.get("text", "")[:220])
        return SearchHit(course_id=hit["course_id"], title=hit["title"], snippet=snippet,
                         score=hit.score or 0.0)

    def _facets(self, docnums) -> dict[str, dict[str, int]]:
        if not docnums:
            return {facet: {} for facet in FACETS}
        values = self._columns()
        return {facet: {key: count for key, count in Counter(
                    values[facet][docnum] for docnum in docnums).items() if key}
                for facet in FACETS}

    def _columns(self) -> dict[str, list]:
        """Each document's facet values and end time, decoded once per searcher
        generation: reading Whoosh's compressed columns one document at a time is slow."""
        local = self._local
        if local.columns is None:
            reader = local.searcher.reader()
            if reader.doc_count_all() == 0:  # an empty index has no columns at all
                local.columns = {name: [] for name in (*FACETS, "ends_at")}
            else:
                local.columns = {facet: [_text(v) for v in reader.column_reader(facet)]
                                 for facet in FACETS}
                local.columns["ends_at"] = list(reader.column_reader("ends_at"))
        return local.columns

    def _did_you_mean(self, searcher, query: SearchQuery, allowed: set[int]) -> str | None:
        """A corrected query, offered only if it finds something this viewer may see
        (the spelling dictionary covers every course, so it must not leak words)."""
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
        retry = self._text_query(suggestion, searcher)
        if retry is None or not _search_within(searcher, retry, allowed, limit=1):
            return None
        return suggestion

    def suggest(self, prefix: str, viewer: Viewer, limit: int = 8,
                now: datetime | None = None) -> list[Suggestion]:
        typed = words(prefix)
        if not typed or len(typed[-1]) < 2:
            return []
        searcher = self.searcher()
        query = And([Term("title_ngrams", word[:12]) for word in typed])
        allowed = self._filter_docs(searcher, SearchQuery(text="", viewer=viewer, now=now))
        found = _search_within(searcher, query, allowed, limit=limit * SUGGESTION_POOL,
                               sortedby="starts_at")
        return typed_beginnings_first(prefix, [Suggestion(
            course_id=hit["course_id"], title=hit["title_display"]) for hit in found], limit)

    def health(self) -> dict:
        try:
            searcher = self.searcher()
        except IndexUnavailable as error:
            return {"backend": self.name, "ok": False, "error": str(error)}
        return {"backend": self.name, "ok": True, "documents": searcher.doc_count(),
                "directory": str(self._current_dir())}


def _search_within(searcher, query, allowed: set[int], **options) -> list:
    """Search only the allowed documents.

    Whoosh treats an empty filter set as *no filter* (it tests the filter for truth), so a
    viewer who may see nothing would otherwise see everything. (And ``list(results)``
    would ask ``len(results)``, which counts every match again: slice instead.)
    """
    if not allowed:
        return []
    results = searcher.search(query, filter=allowed, **options)
    return [results[i] for i in range(results.scored_length())]


class RecordingCollector(WrappingCollector):
    """Collects only the allowed documents and remembers every one of them, so one pass
    gives both the top hits and the full set for totals and facet counts.

    The allowed set is applied here, explicitly: Whoosh's own ``filter=`` lives in an
    outer collector's ``collect_matches``, which a wrapper like this would bypass.
    """

    def __init__(self, child, allowed: set[int]):
        super().__init__(child)
        self.allowed = allowed
        self.docnums: list[int] = []

    def collect_matches(self):
        child, offset, allowed, record = self.child, self.offset, self.allowed, self.docnums
        for sub_docnum in child.matches():
            docnum = offset + sub_docnum
            if docnum in allowed:
                record.append(docnum)
                child.collect(sub_docnum)


def _search_recording(searcher, query, allowed: set[int], limit: int,
                      sortedby: str | None) -> tuple[list, list[int]]:
    """Top ``limit`` hits and all matching docnums among the allowed documents."""
    if not allowed:  # see _search_within
        return [], []
    # Every match must be visited to be counted. A scored top-N collector normally skips
    # blocks (usequality) and swaps in cheaper matchers that drop sub-queries unable to
    # reach the top N (replace); both are switched off here.
    if sortedby:
        ranked = collectors.SortingCollector(sortedby, limit=limit)
    else:
        ranked = collectors.TopCollector(limit=limit, usequality=False, replace=0)
    recorder = RecordingCollector(collectors.TermsCollector(ranked), allowed)
    searcher.search_with_collector(query, recorder)
    results = recorder.results()
    return [results[i] for i in range(results.scored_length())], recorder.docnums


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value or "")

