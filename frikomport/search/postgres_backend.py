"""PostgreSQL full-text backend, for installs with several app servers.

Documents live in ``search_document``. Text is analysed by :mod:`search.analysis` (the
same analyser as the Whoosh backend) and the resulting stems are stored with
``to_tsvector('norwegian', …)``; the stems are fixed points of the Snowball stemmer, so
the ``norwegian`` configuration keeps them as they are and both backends match alike.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from frikomport.db import utcnow
from frikomport.search.analysis import (
    SUGGESTION_POOL,
    content_words,
    fixed_point_stem,
    fold,
    terms,
    typed_beginnings_first,
    words,
)
from frikomport.search.interface import (
    CourseDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
    Suggestion,
    Viewer,
)
from frikomport.search.models import SearchDocument
from frikomport.search.querytext import parse_query_text
from frikomport.search.spelling import best_correction, within_one

FUZZY_MIN_LENGTH = 5
COMPOUND_MIN_LENGTH = 5
LEXEME = re.compile(r"'([^']+)'")
VOCABULARY_TTL = 300.0
FACET_COLUMNS = {"organisation": "organisation_slug", "category": "category",
                 "service_area": "service_area", "month": "month", "free_seats": "free_seats"}

# A: title stems, B: summary, C: body; D: folded words as written plus the word
# beginnings of the title (so "barnehage" finds "barnehageansatte").
TSV_SQL = ("setweight(to_tsvector('norwegian', :t_title), 'A') || "
           "setweight(to_tsvector('norwegian', :t_summary), 'B') || "
           "setweight(to_tsvector('norwegian', :t_body), 'C') || "
           "setweight(to_tsvector('simple', :t_exact), 'D')")


def _quote(lexeme: str) -> str:
    """A tsquery lexeme; our lexemes are \\w+ so only quotes would need escaping."""
    return "'" + lexeme.replace("'", "''") + "'"


def _edge_ngrams(title: str, shortest: int = 2) -> str:
    return " ".join(word[:n] for word in content_words(title)
                    for n in range(shortest, min(len(word), 12) + 1))


class PostgresBackend:
    name = "postgresql"

    def __init__(self, engine: Callable[[], Engine]):
        self._engine = engine
        self._vocabulary: tuple[float, dict[str, int], dict[str, str]] | None = None
        self._vocabulary_lock = threading.Lock()

    # Writing ---------------------------------------------------------------------------

    def _row(self, document: CourseDocument) -> dict:
        exact = " ".join(words(" ".join([document.title, document.summary, document.body,
                                          document.category, document.service_area,
                                          document.organisation_name])))
        body = " ".join([document.body, document.category, document.service_area,
                         document.organisation_name])
        return {
            "course_id": document.course_id, "organisation_id": document.organisation_id,
            "organisation_slug": document.organisation_slug,
            "visibility": document.visibility, "title": document.title,
            "summary": document.summary, "body": document.body,
            "category": document.category, "service_area": document.service_area,
            "month": document.month, "free_seats": document.free_seats,
            "starts_at": document.starts_at, "ends_at": document.ends_at,
            "tsv": text(TSV_SQL).bindparams(
                t_title=" ".join(terms(document.title)),
                t_summary=" ".join(terms(document.summary)),
                t_body=" ".join(terms(body)),
                t_exact=f"{exact} {_edge_ngrams(document.title, COMPOUND_MIN_LENGTH)}"),
            "prefixes": func.to_tsvector("simple", _edge_ngrams(document.title)),
            "spell": func.to_tsvector("simple", f"{document.title} {document.summary}".lower()),
        }

    def _upsert(self, connection, documents: list[CourseDocument]) -> None:
        for document in documents:
            row = self._row(document)
            statement = insert(SearchDocument).values(**row)
            statement = statement.on_conflict_do_update(
                index_elements=["course_id"],
                set_={key: statement.excluded[key] for key in row if key != "course_id"})
            connection.execute(statement)

    def update(self, documents: Iterable[CourseDocument], deleted: Iterable[int]) -> None:
        documents, deleted = list(documents), list(deleted)
        with self._engine().begin() as connection:
            if deleted:
                connection.execute(delete(SearchDocument).where(
                    SearchDocument.course_id.in_(deleted)))
            self._upsert(connection, documents)
        self._vocabulary = None

    def rebuild(self, documents: Iterable[CourseDocument]) -> int:
        """Replace everything in one transaction: readers see the old index until commit."""
        count = 0
        with self._engine().begin() as connection:
            connection.execute(delete(SearchDocument))
            batch: list[CourseDocument] = []
            for document in documents:
                batch.append(document)
                if len(batch) >= 500:
                    self._upsert(connection, batch)
                    count += len(batch)
                    batch = []
            self._upsert(connection, batch)
            count += len(batch)
        self._vocabulary = None
        return count

    # Reading ---------------------------------------------------------------------------

    def _vocab(self) -> tuple[dict[str, int], dict[str, str]]:
        """Folded word → document count, and folded word → word as written (cached)."""
        cached = self._vocabulary
        if cached and time.monotonic() - cached[0] < VOCABULARY_TTL:
            return cached[1], cached[2]
        with self._vocabulary_lock, self._engine().connect() as connection:
            rows = connection.execute(text(
                "SELECT word, ndoc FROM ts_stat('SELECT spell FROM search_document')")).all()
        frequencies: dict[str, int] = {}
        written: dict[str, str] = {}
        for word, ndoc in rows:
            key = fold(word)
            if ndoc > frequencies.get(key, 0):
                written[key] = word
            frequencies[key] = frequencies.get(key, 0) + ndoc
        self._vocabulary = (time.monotonic(), frequencies, written)
        return frequencies, written

    def _word_query(self, word: str, fuzzy: bool) -> str | None:
        if not terms(word):  # a stop word: it does not have to match
            return None
        folded = fold(word)
        stem = fixed_point_stem(folded)
        alternatives = {f"{_quote(stem)}:ABC", f"{_quote(folded)}:D"}
        if len(stem) >= COMPOUND_MIN_LENGTH:
            alternatives.add(f"{_quote(stem[:12])}:D")
        if fuzzy and len(folded) >= FUZZY_MIN_LENGTH:
            frequencies, _written = self._vocab()
            for candidate in within_one(folded, frequencies):
                alternatives.add(f"{_quote(fixed_point_stem(candidate))}:ABC")
        return "(" + " | ".join(sorted(alternatives)) + ")"

    def _tsquery(self, query_text: str, fuzzy: bool = True) -> str | None:
        parsed = parse_query_text(query_text)
        parts = [self._word_query(word, fuzzy) for word in parsed.words]
        for phrase in parsed.phrases:
            stems = terms(phrase)
            if stems:
                parts.append("(" + " <-> ".join(f"{_quote(s)}:ABC" for s in stems) + ")")
        parts = [p for p in parts if p]
        return " & ".join(parts) if parts else None

    def _conditions(self, query: SearchQuery, tsquery: str | None) -> tuple[str, dict]:
        conditions, params = [], {}
        if not query.include_past:
            conditions.append("ends_at >= :now")
            params["now"] = query.now or utcnow()
        viewer = query.viewer
        if not viewer.site_admin:
            allowed = ["visibility = 'public'"]
            if viewer.organisation_ids:
                allowed += ["visibility = 'region'",
                            "(visibility = 'internal' AND organisation_id = ANY(:orgs))"]
                params["orgs"] = sorted(viewer.organisation_ids)
            conditions.append("(" + " OR ".join(allowed) + ")")
        for facet, value in (("organisation", query.organisation), ("category", query.category),
                             ("service_area", query.service_area), ("month", query.month)):
            if value:
                conditions.append(f"{FACET_COLUMNS[facet]} = :{facet}")
                params[facet] = value
        if query.free_seats:
            conditions.append("free_seats")
        if tsquery:
            conditions.append("tsv @@ CAST(:q AS tsquery)")
            params["q"] = tsquery
        return " AND ".join(conditions) or "TRUE", params

    def search(self, query: SearchQuery) -> SearchResults:
        tsquery = self._tsquery(query.text) if query.text.strip() else None
        where, params = self._conditions(query, tsquery)
        rank = "ts_rank_cd(tsv, CAST(:q AS tsquery))" if tsquery else "0"
        order = "starts_at, course_id" if query.sort == "date" or not tsquery else (
            "score DESC, starts_at, course_id")
        params |= {"limit": query.per_page, "offset": (max(query.page, 1) - 1) * query.per_page}
        with self._engine().connect() as connection:
            rows = connection.execute(text(
                f"SELECT course_id, title, summary, body, {rank} AS score "
                f"FROM search_document WHERE {where} ORDER BY {order} "
                "LIMIT :limit OFFSET :offset"), params).all()
            facets, total = self._facets(connection, where, params)
        hits = [self._hit(row, tsquery) for row in rows]
        suggestion = (self._did_you_mean(query) if total == 0 and query.text.strip() else None)
        return SearchResults(hits=hits, total=total, page=query.page, per_page=query.per_page,
                             facets=facets, suggestion=suggestion)

    def _facets(self, connection, where: str, params: dict):
        columns = list(FACET_COLUMNS.values())
        groupings = ", ".join(f"GROUPING({c}) AS g_{c}" for c in columns)
        rows = connection.execute(text(
            f"SELECT {', '.join(columns)}, {groupings}, count(*) AS n FROM search_document "
            f"WHERE {where} GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in columns)}, ())"
        ), params).mappings().all()
        facets: dict[str, dict[str, int]] = {facet: {} for facet in FACET_COLUMNS}
        total = 0
        for row in rows:
            grouped = [facet for facet, c in FACET_COLUMNS.items() if row[f"g_{c}"] == 0]
            if not grouped:
                total = row["n"]
                continue
            facet = grouped[0]
            value = row[FACET_COLUMNS[facet]]
            key = ("1" if value else "0") if facet == "free_seats" else value
            if key:
                facets[facet][key] = row["n"]
        return facets, total

    def _hit(self, row, tsquery: str | None) -> SearchHit:
        snippet = escape(row.summary or row.body[:220])
        if tsquery:
            snippet = self._highlight(row, tsquery) or snippet
        return SearchHit(course_id=row.course_id, title=row.title, snippet=snippet,
                         score=float(row.score))

    def _highlight(self, row, tsquery: str) -> Markup:
        """Mark the words whose stems matched, in escaped summary (or body) text."""
        wanted = set(LEXEME.findall(tsquery))
        source = row.summary if set(terms(row.summary)) & wanted else row.body[:400]
        out = []
        for token in _tokens_with_gaps(source):
            stemmed = terms(token) if token.strip() and token[0].isalnum() else []
            marked = stemmed and stemmed[0] in wanted
            out.append(Markup("<mark>%s</mark>") % token if marked else escape(token))
        return Markup("").join(out)

    def _did_you_mean(self, query: SearchQuery) -> str | None:
        frequencies, written = self._vocab()
        corrected, changed = [], False
        for word in query.text.lower().split():
            clean = "".join(ch for ch in word if ch.isalnum())
            key = fold(clean)
            if len(key) < 4 or key in frequencies:
                corrected.append(word)
                continue
            best = best_correction(key, frequencies)
            corrected.append(written[best] if best else word)
            changed |= best is not None
        if not changed:
            return None
        suggestion = " ".join(corrected)
        retry = replace(query, text=suggestion, page=1, per_page=1)
        tsquery = self._tsquery(suggestion, fuzzy=False)
        where, params = self._conditions(retry, tsquery)
        with self._engine().connect() as connection:
            found = connection.execute(text(
                f"SELECT 1 FROM search_document WHERE {where} LIMIT 1"), params).first()
        return suggestion if found else None

    def suggest(self, prefix: str, viewer: Viewer, limit: int = 8,
                now: datetime | None = None) -> list[Suggestion]:
        typed = words(prefix)
        if not typed or len(typed[-1]) < 2:
            return []
        tsquery = " & ".join(_quote(word[:12]) for word in typed)
        where, params = self._conditions(SearchQuery(text="", viewer=viewer, now=now), None)
        params |= {"p": tsquery, "limit": limit * SUGGESTION_POOL}
        with self._engine().connect() as connection:
            rows = connection.execute(text(
                f"SELECT course_id, title FROM search_document WHERE {where} "
                "AND prefixes @@ CAST(:p AS tsquery) ORDER BY starts_at, course_id "
                "LIMIT :limit"), params).all()
        return typed_beginnings_first(
            prefix, [Suggestion(course_id=row.course_id, title=row.title) for row in rows],
            limit)

    def health(self) -> dict:
        with self._engine().connect() as connection:
            count = connection.scalar(select(func.count()).select_from(SearchDocument))
        return {"backend": self.name, "ok": True, "documents": count}


def _tokens_with_gaps(source: str) -> list[str]:
    """Split text into words and the runs between them, keeping everything."""
    return re.findall(r"\w+|\W+", source or "")
