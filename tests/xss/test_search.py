"""The search page, with a query matching the payload-carrying courses, with the Whoosh
index built, in the database fallback (index missing while it is rebuilt) and, on
PostgreSQL, with the PostgreSQL backend: snippets must be escaped, and the suggestions
(JSON) carry the payload as text."""

from __future__ import annotations

import re

import pytest
from flask import template_rendered

from frikomport.extensions import db
from frikomport.search import indexer, service
from tests.conftest import make_app
from tests.seeded_world import ROLES, role_clients
from tests.xss.checks import ESCAPED, ESCAPED_TAG, PAYLOAD, markup_problems

SEARCH_QUERIES = ("kurset", "XSS1", PAYLOAD)
NO_MATCH_QUERY = f"zzqxjv {PAYLOAD}"


@pytest.fixture(params=["whoosh", "fallback", "postgresql"])
def search_portal(request, xss_setup, database_url, tmp_path):
    """(app, mode): the index built, the index missing while rebuilt (database
    fallback), or the PostgreSQL backend (PostgreSQL only)."""
    mode = request.param
    if mode == "whoosh":
        yield xss_setup.app, mode
        return
    if mode == "postgresql" and not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL search backend needs PostgreSQL")
    app = make_app(database_url, tmp_path,
                   SEARCH_BACKEND="postgresql" if mode == "postgresql" else "whoosh")
    with app.app_context():
        if mode == "fallback":
            # No index in this app's folder, and a rebuild "running": every search uses
            # the database fallback (no background thread races the test).
            app.extensions["search_rebuilding"] = True
        else:
            indexer.rebuild(db.session, service.backend_for(app))
            db.session.commit()
        db.session.remove()
    yield app, mode
    with app.app_context():
        db.engine.dispose()


HITS = re.compile(r'<ol class="course-list search-hits"[^>]*>(.*?)</ol>', re.S)
SNIPPET = re.compile(r'<p class="ds-paragraph" data-size="sm">(.*?)</p>', re.S)


def test_search_snippets_escape_the_payload(search_portal, xss_setup):
    app, mode = search_portal
    contexts = []

    def remember(_sender, template, context, **_extra):
        if template.name == "search/results.html":
            contexts.append(context)

    with app.app_context(), template_rendered.connected_to(remember, app):
        clients = role_clients(app, xss_setup.world)
        answers = [(role, query, clients[role].get("/search/", query_string={"q": query}))
                   for role in ROLES for query in (*SEARCH_QUERIES, NO_MATCH_QUERY)]
        suggestions = [clients[role].get("/search/suggest", query_string={"q": "Mark"})
                       for role in ROLES]

    assert contexts and all(c["degraded"] == (mode == "fallback") for c in contexts), mode
    snippets_with_payload = marked = 0
    for role, query, response in answers:
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (role, query)
        assert not markup_problems(html), (mode, role, query, markup_problems(html))
        assert ESCAPED in html, (mode, role, query)  # at least the echoed query
        hits = HITS.search(html)
        if query == NO_MATCH_QUERY:
            assert hits is None, (mode, role)
            continue
        assert hits, (mode, role, query, "no hits")
        snippets = SNIPPET.findall(hits[1])
        snippets_with_payload += sum(ESCAPED_TAG in s for s in snippets)
        marked += sum("<mark>" in s for s in snippets)
    assert snippets_with_payload >= len(ROLES), mode  # the snippets carry it, escaped
    if mode != "fallback":
        assert marked, mode  # highlights are shown (the snippet's own markup survives)
    for response in suggestions:  # JSON, shown with textContent by typeahead.js
        assert response.content_type == "application/json"
        titles = [s["title"] for s in response.json]
        assert all(PAYLOAD in t for t in titles), (mode, titles)
        assert titles or mode == "fallback", mode  # no suggestions without an index
