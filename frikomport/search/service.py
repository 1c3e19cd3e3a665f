"""Search as the rest of the portal sees it: pick the configured backend, search with
the viewer's visibility, and keep working (with a simple database search) while the
index is missing or being rebuilt."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app
from markupsafe import escape
from sqlalchemy import func, or_, select

from frikomport.courses.models import Course, CourseState
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.permissions import visible_courses_clause
from frikomport.search import indexer
from frikomport.search.analysis import fold
from frikomport.search.interface import (
    IndexUnavailable,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResults,
    Suggestion,
    Viewer,
)

log = logging.getLogger(__name__)
_start_lock = threading.Lock()


def backend_for(app: Flask) -> SearchBackend:
    """One backend object per app (Whoosh keeps its searchers there)."""
    backend = app.extensions.get("search_backend")
    if backend is None:
        name = app.config["SEARCH_BACKEND"]
        if name == "whoosh":
            from frikomport.search.whoosh_backend import WhooshBackend

            backend = WhooshBackend(Path(app.config["SEARCH_INDEX_DIR"]))
        elif name == "postgresql":
            from frikomport.search.postgres_backend import PostgresBackend

            backend = PostgresBackend(lambda: db.engine)
        else:
            raise ValueError(f"Unknown SEARCH_BACKEND {name!r} (use whoosh or postgresql)")
        app.extensions["search_backend"] = backend
    return backend


def backend() -> SearchBackend:
    return backend_for(current_app._get_current_object())


def search(user, query: SearchQuery) -> tuple[SearchResults, bool]:
    """Results, and whether they came from the fallback (index unavailable)."""
    try:
        return backend().search(query), False
    except IndexUnavailable as error:
        log.warning("Search index unavailable (%s); using the database fallback", error)
        request_rebuild(current_app._get_current_object())
        return fallback_search(user, query), True


def suggest(user, prefix: str) -> list[Suggestion]:
    try:
        return backend().suggest(prefix, Viewer.for_user(user))
    except IndexUnavailable:
        return []


def fallback_search(user, query: SearchQuery) -> SearchResults:
    """Plain substring search on titles and summaries, with the same visibility."""
    statement = select(Course).where(visible_courses_clause(user),
                                     Course.state == CourseState.PUBLISHED)
    if not query.include_past:
        statement = statement.where(Course.ends_at >= (query.now or utcnow()))
    for word in query.text.split()[:6]:
        pattern = f"%{fold(word)}%"
        statement = statement.where(or_(_folded(Course.title).like(pattern),
                                        _folded(Course.summary).like(pattern)))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    courses = db.session.scalars(statement.order_by(Course.starts_at)
                                 .limit(query.per_page)
                                 .offset((query.page - 1) * query.per_page)).all()
    hits = [SearchHit(course_id=c.id, title=c.title, snippet=escape(c.summary), score=0.0)
            for c in courses]
    return SearchResults(hits=hits, total=total, page=query.page, per_page=query.per_page)


def _folded(column):
    """The column lower-cased with æ/ø/å folded like the search analyser does, in SQL.

    SQLite's lower() only knows ASCII, so the Norwegian letters are replaced explicitly.
    """
    expression = column
    for letter, plain in (("Æ", "ae"), ("æ", "ae"), ("Ø", "o"), ("ø", "o"), ("Å", "a"),
                          ("å", "a")):
        expression = func.replace(expression, letter, plain)
    return func.lower(expression)


# The single indexer ----------------------------------------------------------------------

def request_rebuild(app: Flask) -> None:
    """Start a background rebuild unless one is running (the site keeps working)."""
    with _start_lock:
        if app.extensions.get("search_rebuilding"):
            return
        app.extensions["search_rebuilding"] = True
    threading.Thread(target=_rebuild_in_background, args=(app,), name="search-rebuild",
                     daemon=True).start()


def _rebuild_in_background(app: Flask) -> None:
    with app.app_context():
        try:
            indexer.rebuild(db.session, backend_for(app))
        except Exception:
            log.exception("Rebuilding the search index failed")
            db.session.rollback()
        finally:
            db.session.remove()
            app.extensions["search_rebuilding"] = False


def ensure_indexer_started(app: Flask) -> threading.Event | None:
    """Start the in-process indexer thread once per app (embedded default)."""
    with _start_lock:
        if app.extensions.get("search_indexer"):
            return None
        stop = threading.Event()
        app.extensions["search_indexer"] = stop
    threading.Thread(target=_index_loop, args=(app, stop), name="search-indexer",
                     daemon=True).start()
    return stop


def _index_loop(app: Flask, stop: threading.Event) -> None:
    with app.app_context():
        if not backend_for(app).health().get("ok"):
            request_rebuild(app)
    while not stop.wait(app.config["SEARCH_POLL_SECONDS"]):
        if app.extensions.get("search_rebuilding"):
            continue
        with app.app_context():
            try:
                indexer.process_jobs(db.session, backend_for(app))
            except IndexUnavailable:
                db.session.rollback()
                request_rebuild(app)
            except Exception:
                log.exception("Search indexer round failed")
                db.session.rollback()
            finally:
                db.session.remove()
