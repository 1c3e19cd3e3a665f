"""The Whoosh backend's memory and cost at scale (issue 12): one searcher per process,
shared by its threads; caches that stay bounded however long a worker runs; exact
totals and facet counts without scoring every match."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from whoosh import collectors

from frikomport.lru import LRU
from frikomport.search import whoosh_query, whoosh_searcher
from frikomport.search.bitsets import BitsFilter, flags_of, from_ids, ids_of
from frikomport.search.interface import SearchQuery
from frikomport.search.whoosh_backend import WhooshBackend
from frikomport.search.whoosh_query import text_query
from tests.search.test_contract import ANONYMOUS, CATALOGUE, NOW, SITE_ADMIN, doc


class Clock:
    """An injectable clock: each reading is one minute later than the one before."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def whoosh(tmp_path, clock):
    backend = WhooshBackend(tmp_path / "index", clock=clock)
    backend.rebuild(CATALOGUE + [doc(n, f"Kurs nummer {n}", "Et kurs.", days=5 + n % 40)
                                 for n in range(100, 160)])
    yield backend
    backend.close()


def test_threads_searching_at_once_share_one_searcher(whoosh):
    expected = {text: whoosh.search(SearchQuery(text=text, viewer=ANONYMOUS, now=NOW)).total
                for text in ("kurs", "førstehjelp", "nummer 7", "")}
    start, failures = threading.Barrier(8), []

    def search_many() -> None:
        start.wait()
        for _ in range(25):
            for text, total in expected.items():
                found = whoosh.search(SearchQuery(text=text, viewer=ANONYMOUS, now=NOW))
                if found.total != total or len(found.hits) != min(total, 20):
                    failures.append((text, found.total))

    threads = [threading.Thread(target=search_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert whoosh.stats()["searchers_opened"] == 1


def test_the_searcher_is_reopened_only_when_the_index_changed(whoosh):
    query = SearchQuery(text="livredning", viewer=ANONYMOUS, now=NOW)
    assert whoosh.search(query).total == 0
    assert whoosh.stats()["searchers_opened"] == 1
    whoosh.update([doc(200, "Livredning i basseng")], [])
    assert whoosh.search(query).total == 1
    assert whoosh.search(query).total == 1
    assert whoosh.stats()["searchers_opened"] == 2
    whoosh.rebuild([doc(1, "Livredning")])  # a new directory: a new index and searcher
    assert [h.course_id for h in whoosh.search(query).hits] == [1]
    assert whoosh.stats()["searchers_opened"] == 3


def test_searches_during_updates_do_not_fail(whoosh):
    stop, failures = threading.Event(), []

    def search_until_stopped() -> None:
        while not stop.is_set():
            try:
                whoosh.search(SearchQuery(text="kurs", viewer=ANONYMOUS, now=NOW))
            except Exception as error:  # any failure is the finding
                failures.append(error)

    threads = [threading.Thread(target=search_until_stopped) for _ in range(3)]
    for thread in threads:
        thread.start()
    for n in range(5):
        whoosh.update([doc(300 + n, f"Ekstra kurs {n}")], [])
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    assert whoosh.search(SearchQuery(text="ekstra", viewer=ANONYMOUS, now=NOW)).total == 5


def test_caches_stay_bounded_as_minutes_pass(whoosh, clock, monkeypatch):
    """The "not yet ended" set is per minute: a long-running worker must not keep one
    for every minute it has seen (nor a set per viewer and facet choice)."""
    for minute in range(300):
        viewer = SITE_ADMIN if minute % 2 else ANONYMOUS
        whoosh.search(SearchQuery(text="kurs", viewer=viewer, month=f"2026-{minute % 12:02d}"))
        whoosh.suggest("kur", viewer)
    assert clock.now >= NOW + timedelta(minutes=600)
    stats = whoosh.stats()
    assert stats["minutes"] <= whoosh_searcher.MINUTE_CACHE_SIZE
    assert stats["searchers_opened"] == 1


def test_term_cache_is_a_bounded_lru(tmp_path, monkeypatch):
    monkeypatch.setattr(whoosh_searcher, "TERM_CACHE_SIZE", 8)
    backend = WhooshBackend(tmp_path / "index")
    backend.rebuild(CATALOGUE)
    for n in range(50):
        backend.search(SearchQuery(text=f"ord{n} kurs", viewer=ANONYMOUS, now=NOW))
    assert backend.stats()["terms"] <= 8
    backend.close()


@pytest.mark.parametrize(("few", "broad", "depth"), [
    (1000, 2000, 1000),  # few matches left by the filters: only they are scored
    (0, 10**6, 1000),    # every match scored, filtered to the allowed ones
    (0, 5, 12),          # broad: the cached overall ranking, filtered (or too short)
])
@pytest.mark.parametrize("filters", [{}, {"month": CATALOGUE[0].month}])
def test_ranking_equals_scoring_every_match(whoosh, monkeypatch, few, broad, depth, filters):
    """Each way of ranking gives exactly the order of scoring every match."""
    monkeypatch.setattr(whoosh_query, "FEW_MATCHES", few)
    monkeypatch.setattr(whoosh_query, "BROAD_MATCHES", broad)
    monkeypatch.setattr(whoosh_query, "RANKED_DEPTH", depth)
    for text in ("kurs", "kurs nummer", "førstehjelp", "nummer 12"):
        query = SearchQuery(text=text, viewer=ANONYMOUS, now=NOW, per_page=7, **filters)
        fast = [h.course_id for h in whoosh.search(query).hits]
        with whoosh._shared.generation() as generation:
            searcher = generation.searcher
            allowed = set(ids_of(whoosh._allowed(generation, query)))
            full = collectors.UnlimitedCollector()
            searcher.search_with_collector(text_query(text, searcher),
                                           collectors.FilterCollector(full, allowed))
            slow = [searcher.stored_fields(docnum)["course_id"]
                    for _score, docnum in full.results().top_n[:7]]
        assert fast == slow, text


def test_bitsets():
    bits = from_ids([0, 3, 64, 99], 100)
    assert ids_of(bits) == [0, 3, 64, 99] and bits.bit_count() == 4
    assert flags_of(bits, 100)[3:5] == b"10"
    allowed = BitsFilter(bits, 100)
    assert 64 in allowed and 65 not in allowed and len(allowed) == 4
    assert list(allowed) == [0, 3, 64, 99]
    assert from_ids([], 0) == 0 and ids_of(0) == []
    cache = LRU(2)
    for key in "abcab":
        cache.get(key, lambda k=key: k.upper())
    assert len(cache) == 2 and cache.get("b", lambda: "new") == "B"
