"""Search inside the portal: index kept in sync, the search page, resilience."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from frikomport.courses.models import Visibility
from frikomport.extensions import db
from frikomport.search import indexer, service
from frikomport.search.models import SearchJob
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, OrganisationFactory, member
from tests.search.conftest import BACKENDS, WHOOSH_ONLY
from tests.test_query_counts import counted_queries


def index_now(app):
    """What the single indexer would do on its next round."""
    return indexer.process_jobs(db.session, service.backend_for(app))


def reindex(app):
    """Factory-made courses bypass the services (no jobs): rebuild from the database."""
    return indexer.rebuild(db.session, service.backend_for(app))


def pending_jobs() -> list[int]:
    return list(db.session.scalars(select(SearchJob.course_id).where(
        SearchJob.processed_at.is_(None))))


@pytest.fixture
def search_ready(portal):
    indexer.rebuild(db.session, service.backend_for(portal))
    return portal


@BACKENDS
def test_course_changes_are_queued_in_the_same_transaction(portal, client, login):
    organisation = OrganisationFactory(slug="kongsberg")
    course = CourseFactory(organisation=organisation, title="Førstehjelp")
    organiser = member(organisation, Role.ORGANISER)
    from frikomport.courses.services import cancel_course

    cancel_course(db.session, organiser, course, "Syk instruktør")
    db.session.rollback()
    assert pending_jobs() == []  # rolled back together with the change
    cancel_course(db.session, organiser, course, "Syk instruktør")
    db.session.commit()
    assert pending_jobs() == [course.id]


@BACKENDS
def test_indexer_applies_publish_edit_and_cancel(search_ready, client, login):
    app = search_ready
    organisation = OrganisationFactory(slug="kongsberg")
    login(member(organisation, Role.ORGANISER))
    from tests.test_courses import course_form

    client.post("/o/kongsberg/admin/courses/new", data=course_form(title="Svømmeopplæring",
                                                                   **{"sessions-0-day":
                                                                      "2027-05-03"}))
    course_id = db.session.scalar(select(SearchJob.course_id))
    client.post(f"/o/kongsberg/admin/courses/{course_id}/publish")
    assert "Svømmeopplæring" not in client.get("/search/?q=svømmeopplæring").text
    assert index_now(app) >= 2
    assert "Svømmeopplæring" in client.get("/search/?q=svommeopplaering").text

    client.post(f"/o/kongsberg/admin/courses/{course_id}/cancel", data={"reason": "Stengt"})
    index_now(app)
    assert "Svømmeopplæring" not in client.get("/search/?q=svømmeopplæring").text.split(
        'id="hits-heading"')[1]


@BACKENDS
def test_free_seats_facet_follows_registrations(search_ready, client):
    app = search_ready
    organisation = OrganisationFactory(slug="kongsberg")
    course = CourseFactory(organisation=organisation, title="Lite kurs", capacity=1)
    reindex(app)
    assert "1 kurs" in client.get("/search/?q=lite&free_seats=1").text
    add_registration_through_engine(course, member(organisation))
    index_now(app)
    assert "0 kurs" in client.get("/search/?q=lite&free_seats=1").text


def add_registration_through_engine(course, user):
    """Through the engine, so the seat change queues an index job."""
    from frikomport.registrations.services import register_member

    register_member(db.session, user, course.id)
    db.session.commit()


@BACKENDS
def test_search_page_respects_visibility(search_ready, client, login):
    app = search_ready
    kongsberg, notodden = OrganisationFactory(slug="kongsberg"), OrganisationFactory(
        slug="notodden")
    CourseFactory(organisation=kongsberg, title="Intern førstehjelp",
                  visibility=Visibility.INTERNAL)
    CourseFactory(organisation=kongsberg, title="Regional førstehjelp",
                  visibility=Visibility.REGION)
    reindex(app)
    anonymous = client.get("/search/?q=førstehjelp").text
    assert "Regional" not in anonymous and "Intern" not in anonymous
    login(member(notodden))
    employee = client.get("/search/?q=forstehjelp").text
    assert "Regional førstehjelp" in employee and "Intern førstehjelp" not in employee
    suggestions = client.get("/search/suggest?q=inter").json
    assert suggestions == []


@BACKENDS
def test_search_page_shows_facets_highlights_and_did_you_mean(search_ready, client):
    app = search_ready
    organisation = OrganisationFactory(slug="kongsberg", name="Kongsberg kommune")
    CourseFactory(organisation=organisation, title="Demensomsorg",
                  summary="Om <b>demens</b> og pårørende.")
    reindex(app)
    page = client.get("/search/?q=demens").text
    assert "<mark>demens</mark>" in page and "&lt;b&gt;" in page
    assert "Kongsberg kommune" in page  # facet label from the organisation name
    typo = client.get("/search/?q=demensomsrgg").text
    assert "Mente du" in typo or "Demensomsorg" in typo
    assert client.get("/search/?q=" + "x" * 5000).status_code == 200  # cut to 200 letters
    assert client.get("/search/?q=" + "x" * 10000).status_code == 414
    assert client.get("/search/?page=-3&sort=evil").status_code == 200


@BACKENDS
def test_suggest_endpoint(search_ready, client):
    app = search_ready
    course = CourseFactory(organisation=OrganisationFactory(), title="Hjertestarter i praksis")
    reindex(app)
    assert client.get("/search/suggest?q=hjer").json == [
        {"id": course.id, "title": "Hjertestarter i praksis", "url": f"/courses/{course.id}"}]
    assert client.get("/search/suggest?q=h").json == []


@WHOOSH_ONLY
def test_missing_index_falls_back_and_rebuilds(portal, client):
    app = portal
    CourseFactory(organisation=OrganisationFactory(), title="Brannvern for alle")
    page = client.get("/search/?q=brannvern").text
    assert "Søkeindeksen bygges opp på nytt" in page and "Brannvern for alle" in page
    rebuild_thread_finished(app)  # the search request started a background rebuild
    page = client.get("/search/?q=brannvern").text
    assert "Søkeindeksen bygges" not in page and "Brannvern for alle" in page


def rebuild_thread_finished(app, timeout: float = 30.0) -> None:
    import threading
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(t.name == "search-rebuild" for t in threading.enumerate()):
            return
        time.sleep(0.05)
    raise AssertionError("the background rebuild did not finish")


@BACKENDS
def test_fallback_folds_norwegian_letters_and_respects_visibility(portal):
    from flask_login import AnonymousUserMixin

    from frikomport.courses.models import Visibility
    from frikomport.search.interface import SearchQuery, Viewer

    organisation = OrganisationFactory()
    CourseFactory(organisation=organisation, title="Førstehjelp på Åsen")
    CourseFactory(organisation=organisation, title="Førstehjelp internt",
                  visibility=Visibility.INTERNAL)
    results = service.fallback_search(AnonymousUserMixin(), SearchQuery(
        text="FORSTEHJELP", viewer=Viewer()))
    assert [hit.title for hit in results.hits] == ["Førstehjelp på Åsen"]
    assert results.total == 1


@WHOOSH_ONLY
def test_broken_index_is_detected_and_rebuilt(search_ready, client):
    app = search_ready
    CourseFactory(organisation=OrganisationFactory(), title="Kurs i klarspråk")
    backend = service.backend_for(app)
    directory = backend._current_dir()
    for toc in directory.glob("_MAIN_*.toc"):
        toc.write_bytes(b"garbage")
    backend.close()
    page = client.get("/search/?q=klarspråk").text
    assert "Søkeindeksen bygges opp på nytt" in page and "Kurs i klarspråk" in page
    rebuild_thread_finished(app)
    backend.close()
    assert "Søkeindeksen bygges" not in client.get("/search/?q=klarspråk").text


@BACKENDS
def test_rebuild_replays_changes_made_meanwhile(portal):
    app = portal
    organisation = OrganisationFactory()
    course = CourseFactory(organisation=organisation, title="Gammel tittel")
    backend = service.backend_for(app)
    real_rebuild = backend.rebuild

    def rebuild_while_someone_edits(documents):
        documents = list(documents)  # the rebuild has read the courses …
        course.title = "Ny tittel"   # … and then an organiser saves a change
        db.session.add(SearchJob(course_id=course.id))
        db.session.commit()
        return real_rebuild(documents)

    backend.rebuild = rebuild_while_someone_edits
    indexer.rebuild(db.session, backend)
    from frikomport.search.interface import SearchQuery, Viewer

    results = backend.search(SearchQuery(text="ny tittel", viewer=Viewer(site_admin=True)))
    assert [h.title for h in results.hits] == ["Ny tittel"]


@BACKENDS
def test_cli(portal):
    app = portal
    CourseFactory(organisation=OrganisationFactory(), title="Et kurs")
    runner = app.test_cli_runner()
    assert "Indexed 1 courses" in runner.invoke(args=["search", "rebuild"]).output
    assert '"documents": 1' in runner.invoke(args=["search", "health"]).output
    CourseFactory(organisation=OrganisationFactory(), title="Et kurs til")
    db.session.add(SearchJob(course_id=2))
    db.session.commit()
    assert "1 change(s) applied" in runner.invoke(args=["search", "process"]).output


@BACKENDS
def test_earlier_courses_switch(search_ready, client):
    """By default only courses not yet ended; a labelled checkbox includes earlier ones,
    and the links on the page (facets, pages) keep the choice."""
    from tests.factories import in_days

    app = search_ready
    organisation = OrganisationFactory(slug="kongsberg")
    CourseFactory(organisation=organisation, title="Gammel brannøvelse",
                  sessions=[in_days(-20)])
    CourseFactory(organisation=organisation, title="Ny brannøvelse")
    reindex(app)
    page = client.get("/search/?q=brannøvelse").text
    assert "Ny brannøvelse" in page and "Gammel brannøvelse" not in page
    assert '<label class="ds-label" for="search-past"' in page
    assert 'id="search-past" name="past" value="1" >' in page  # not checked
    page = client.get("/search/?q=brannøvelse&past=1").text
    assert "Ny brannøvelse" in page and "Gammel brannøvelse" in page
    assert 'id="search-past" name="past" value="1" checked>' in page
    assert "past=1" in page.split('id="facets-heading"')[1]


@BACKENDS
def test_fallback_includes_earlier_courses_only_when_asked(portal):
    from flask_login import AnonymousUserMixin

    from frikomport.search.interface import SearchQuery, Viewer
    from tests.factories import in_days

    CourseFactory(organisation=OrganisationFactory(), title="Gammel brannøvelse",
                  sessions=[in_days(-20)])
    query = SearchQuery(text="brannøvelse", viewer=Viewer())
    assert service.fallback_search(AnonymousUserMixin(), query).total == 0
    assert service.fallback_search(AnonymousUserMixin(), replace(query, include_past=True)
                                   ).total == 1


@BACKENDS
def test_the_search_page_runs_as_many_queries_for_90_courses_as_for_30(search_ready, client):
    """Hits are loaded for the page shown, in a fixed number of queries (issue 12)."""
    organisation = OrganisationFactory(slug="kongsberg")
    paths = ["/search/?q=kurs", "/search/?q=kurs&sort=date&past=1", "/search/?q=kurs&page=2"]

    def counted() -> list[int]:
        reindex(search_ready)
        counts = []
        for path in paths:
            with counted_queries() as statements:
                assert client.get(path).status_code == 200
            counts.append(len(statements))
        return counts

    for number in range(30):  # two pages of hits
        CourseFactory(organisation=organisation, title=f"Kurs i brannvern {number}")
    small = counted()
    for number in range(60):
        CourseFactory(organisation=organisation, title=f"Kurs i førstehjelp {number}")
    assert counted() == small and max(small) <= 6
