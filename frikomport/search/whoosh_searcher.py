"""One Whoosh searcher per process, shared by its threads, and the document sets derived
from it.

Why one: a searcher per thread (as before) kept a copy of every derived structure per
thread, so a 4-thread worker grew to ~730 MiB at 50k courses. Why a lock: Whoosh 2.7.5
readers are not safe for concurrent use — a posting matcher does ``seek()`` and then
``read_int()`` on a file object its reader shares — so everything that touches the
reader runs under the process lock. That costs little: the GIL already lets only one
thread at a time run this (pure Python) work.

Following ../shared/SEARCH.md, the searcher is never ``refresh()``-ed; when
``up_to_date()`` is False a new one is opened with ``ix.searcher()`` and everything
derived from the old one (docnums belong to one searcher) is dropped with it.
"""

from __future__ import annotations

import os
import threading
import weakref
from bisect import bisect_left
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.query import And, Every, NumericRange, Or, Term
from whoosh.reading import TermNotFound

from frikomport.lru import LRU
from frikomport.search.bitsets import flags_of, from_ids, ids_of
from frikomport.search.interface import IndexUnavailable

TERM_CACHE_SIZE = 512    # term/phrase document sets: at most 6 KiB each at 50k documents
MINUTE_CACHE_SIZE = 2    # "not yet ended" sets: this minute (and the one just before)
RANKING_CACHE_SIZE = 16  # overall rankings of broad queries: ~100 KiB each
VALUE_FIELDS = ("organisation", "category", "service_area", "month", "free_seats",
                "visibility")
SMALL_FOR_SORTING = 2000  # fewer matches than this: sort them instead of walking dates


class Generation:
    """A searcher and what is derived from its document numbers. Used only under the
    process lock (see :class:`SharedSearcher`)."""

    def __init__(self, ix, directory: Path, searcher):
        self.index, self.directory, self.searcher = ix, directory, searcher
        self.reader = searcher.reader()
        self.size = self.reader.doc_count_all()
        self.terms = LRU(TERM_CACHE_SIZE)
        self.minutes = LRU(MINUTE_CACHE_SIZE)
        self.rankings = LRU(RANKING_CACHE_SIZE)
        self._values: dict[str, dict[str, int]] = {}
        self._all: int | None = None
        self._ends: tuple[list[int], list[int]] | None = None
        self._starts: tuple[list[int], list[int]] | None = None
        self._rank: list[int] | None = None

    # Document sets --------------------------------------------------------------------

    def all_bits(self) -> int:
        if self._all is None:
            self._all = from_ids(self.reader.all_doc_ids(), self.size)
        return self._all

    def term_bits(self, field: str, text: str) -> int:
        return self.terms.get((field, text), lambda: self._postings_bits(field, text))

    def _postings_bits(self, field: str, text) -> int:
        try:
            return from_ids(self.reader.postings(field, text).all_ids(), self.size)
        except TermNotFound:
            return 0

    def organisation_bits(self, organisation_id: int) -> int:
        query = NumericRange("organisation_id", organisation_id, organisation_id)
        return self.terms.get(("organisation_id", organisation_id), lambda: from_ids(
            self.searcher.docs_for_query(query), self.size))

    def value_bits(self, field: str) -> dict[str, int]:
        """Each value of a keyword field and its documents (bounded by the values that
        exist in the index, computed once per searcher)."""
        if field not in self._values:
            self._values[field] = {
                value.decode("utf-8"): self._postings_bits(field, value)
                for value in self.reader.lexicon(field)}
        return self._values[field]

    def matches(self, query) -> int:
        """The documents matching a query built from Term/And/Or/Every (any other query,
        e.g. a phrase, is evaluated by Whoosh) — without scoring them."""
        kind = type(query)
        if kind is Term:
            return self.term_bits(query.fieldname, query.text)
        if kind is Every:
            return self.all_bits()
        if kind is And or kind is Or:
            parts = [self.matches(sub) for sub in query.subqueries]
            combined = parts[0] if parts else 0
            for part in parts[1:]:
                combined = combined & part if kind is And else combined | part
            return combined
        return self.terms.get(query, lambda: from_ids(self.searcher.docs_for_query(query),
                                                      self.size))

    # Time --------------------------------------------------------------------------------

    def not_ended(self, minute: datetime) -> int:
        """Documents ending at or after this minute (one small cache entry per minute)."""
        def compute() -> int:
            ends, order = self._sorted_column("ends_at")
            threshold = self.searcher.schema["ends_at"].to_column_value(minute)
            return from_ids(order[bisect_left(ends, threshold):], self.size)
        return self.minutes.get(minute, compute)

    def by_date(self, bits: int, start: int, count: int) -> list[int]:
        """Docnums ``start:start+count`` of the set, soonest first (then by docnum)."""
        if not bits or count <= 0:
            return []
        _starts, order = self._sorted_column("starts_at")
        if bits.bit_count() < SMALL_FOR_SORTING:
            rank = self._start_rank()
            return sorted(ids_of(bits), key=rank.__getitem__)[start:start + count]
        flags, found, wanted = flags_of(bits, self.size), [], start + count
        for docnum in order:
            if flags[docnum] == 49:
                found.append(docnum)
                if len(found) == wanted:
                    break
        return found[start:]

    def _start_rank(self) -> list[int]:
        if self._rank is None:
            _starts, order = self._sorted_column("starts_at")
            rank = [0] * self.size
            for position, docnum in enumerate(order):
                rank[docnum] = position
            self._rank = rank
        return self._rank

    def _sorted_column(self, field: str) -> tuple[list[int], list[int]]:
        """(sorted raw column values, docnums in that order), once per searcher."""
        attribute = "_ends" if field == "ends_at" else "_starts"
        if getattr(self, attribute) is None:
            if self.size == 0:  # an empty index has no columns at all
                pairs = []
            else:
                column = self.reader.column_reader(field, translate=False)
                pairs = sorted((value, docnum) for docnum, value in enumerate(column))
            setattr(self, attribute, ([v for v, _ in pairs], [d for _, d in pairs]))
        return getattr(self, attribute)

    def cache_sizes(self) -> dict[str, int]:
        return {"terms": len(self.terms), "minutes": len(self.minutes),
                "rankings": len(self.rankings)}


class SharedSearcher:
    """The process's searcher: reopened only when the index changed or was swapped."""

    def __init__(self, locate: Callable[[], Path]):
        self._locate = locate  # the current index directory, or IndexUnavailable
        self._lock = threading.RLock()
        self._generation: Generation | None = None
        self.searchers_opened = 0
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_after_fork(reference))

    @contextmanager
    def generation(self) -> Iterator[Generation]:
        """The current generation, with the process lock held while it is used."""
        with self._lock:
            yield self._fresh()

    def _fresh(self) -> Generation:
        directory = self._locate()
        current = self._generation
        if current is None or current.directory != directory:
            ix = open_index(directory, for_search=True)
            self._replace(Generation(ix, directory, self._open_searcher(ix)))
        elif not _up_to_date(current):
            self._replace(Generation(current.index, directory,
                                     self._open_searcher(current.index)))
        return self._generation

    def _open_searcher(self, ix):
        try:
            searcher = ix.searcher()
        except Exception as exc:  # a segment removed or broken under us
            raise IndexUnavailable(f"cannot open search index: {exc}") from exc
        self.searchers_opened += 1
        return searcher

    def _replace(self, generation: Generation | None) -> None:
        old, self._generation = self._generation, generation
        if old is not None:
            old.searcher.close()  # safe: every use holds the lock we hold

    def close(self) -> None:
        with self._lock:
            self._replace(None)

    def stats(self) -> dict[str, int]:
        with self._lock:
            sizes = self._generation.cache_sizes() if self._generation else {}
            return {"searchers_opened": self.searchers_opened, **sizes}


def open_index(directory: Path, *, for_search: bool = False):
    """The index in this directory. For searching without memory maps: whoosh-reloaded
    wraps a mapped segment file in ``BytesIO``, which copies it — the whole postings file
    (65 MiB at 50k courses) in every process. Read through the file, the operating
    system's page cache holds it once for all workers."""
    try:
        return FileStorage(str(directory), supports_mmap=not for_search).open_index()
    except Exception as exc:  # EmptyIndexError, corrupt TOC, missing segment files
        raise IndexUnavailable(f"cannot open search index: {exc}") from exc


def _up_to_date(generation: Generation) -> bool:
    try:
        return generation.searcher.up_to_date()
    except Exception as exc:  # the directory vanished
        raise IndexUnavailable(f"cannot check the search index: {exc}") from exc


def _forget_after_fork(reference) -> None:
    """A forked worker must not share the parent's lock state or reader files."""
    shared = reference()
    if shared is not None:
        shared._lock = threading.RLock()
        shared._generation = None
