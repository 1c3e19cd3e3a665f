"""List pages and feeds run a constant, small number of SQL queries, however many courses."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from frikomport.courses import choices
from frikomport.courses.models import Category, CourseState, ServiceArea, Visibility
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.sso import crypto
from frikomport.sso.models import ExternalIdentity, IdentityProvider, SsoDomain
from frikomport.tenancy.models import Role
from frikomport.timeutil import to_local
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    LocationFactory,
    OrganisationFactory,
    ServiceAreaFactory,
    UserFactory,
    in_days,
    member,
)

PAGES = {
    "/courses/": 9,
    "/": 8,
    "/o/kongsberg/": 8,
    "/courses/feed.atom": 6,
    "/o/kongsberg/courses.ics": 6,
    "/courses/calendar": 6,
    "/o/kongsberg/admin/courses": 8,
}


@contextmanager
def counted_queries():
    statements = []

    def before_cursor_execute(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def add_courses(organisation, count):
    category = CategoryFactory(organisation=organisation)
    area = ServiceAreaFactory(organisation=organisation)
    location = LocationFactory(organisation=organisation)
    for number in range(count):
        CourseFactory(organisation=organisation, category=category, service_area=area,
                      location=location, sessions=[in_days(3 + number % 20, 9),
                                                   in_days(3 + number % 20, 13)])


def query_counts(client, paths) -> dict[str, int]:
    counts = {}
    for path in paths:
        with counted_queries() as statements:
            assert client.get(path).status_code == 200, path
        counts[path] = len(statements)
    return counts


@pytest.mark.parametrize("logged_in", [False, True])
def test_list_pages_do_not_query_per_course(app, client, login, logged_in):
    kongsberg = OrganisationFactory(slug="kongsberg")
    paths = [p for p in PAGES if logged_in or "/admin/" not in p]
    if logged_in:
        login(member(kongsberg, Role.ORGANISER))
    add_courses(kongsberg, 5)
    small = query_counts(client, paths)
    add_courses(kongsberg, 45)  # 50 courses in all, two sessions each
    large = query_counts(client, paths)
    assert small == large
    for path, count in large.items():
        assert count <= PAGES[path], (path, count)


# The catalogue pages (issue 12): the same queries at any size, the filter choices included.
# Each request is measured with the choice cache emptied (the most a request can cost);
# a warm cache saves exactly the three choice queries.

CATALOGUE_LIMITS = {"list": 7, "filtered": 7, "second_page": 7, "calendar": 1,
                    "empty_calendar": 2, "front": 3, "organisation": 3}
CHOICE_QUERIES = 3


def catalogue_paths() -> dict[str, str]:
    month = to_local(in_days(3)[0]).strftime("%Y-%m")
    return {
        "list": "/courses/",
        "filtered": "/courses/?organisation=kongsberg&category=Felles&service_area=Helse"
                    f"&month={month}&free_seats=1",
        "second_page": "/courses/?page=2",
        "calendar": f"/courses/calendar?month={month}",
        "empty_calendar": "/courses/calendar?month=2001-01",
        "front": "/",
        "organisation": "/o/kongsberg/",
    }


def add_catalogue(organisation, count: int) -> None:
    """``count`` courses of every kind: visible or not, upcoming, past, draft, cancelled."""
    category = (db.session.scalar(select(Category).filter_by(organisation_id=organisation.id))
                or CategoryFactory(organisation=organisation, name="Felles"))
    area = (db.session.scalar(select(ServiceArea).filter_by(organisation_id=organisation.id))
            or ServiceAreaFactory(organisation=organisation, name="Helse"))
    kinds = [(Visibility.PUBLIC, CourseState.PUBLISHED), (Visibility.REGION, CourseState.PUBLISHED),
             (Visibility.INTERNAL, CourseState.PUBLISHED), (Visibility.PUBLIC, CourseState.DRAFT),
             (Visibility.PUBLIC, CourseState.CANCELLED)]
    for number in range(count):
        visibility, state = kinds[number % len(kinds)]
        days = -30 if number % 7 == 6 else 3 + number % 20
        CourseFactory(organisation=organisation, category=category, service_area=area,
                      visibility=visibility, state=state,
                      sessions=[in_days(days, 9), in_days(days + 7, 13)])


def cold_query_counts(app, client) -> dict[str, int]:
    counts = {}
    for name, path in catalogue_paths().items():
        choices.clear_cache(app)
        counts[name] = query_counts(client, [path])[path]
    return counts


@pytest.mark.parametrize("viewer", ["anonymous", "employee", "other_member"])
def test_catalogue_pages_cost_the_same_at_two_sizes(app, client, login, viewer):
    kongsberg = OrganisationFactory(slug="kongsberg")
    if viewer != "anonymous":
        home = kongsberg if viewer == "employee" else OrganisationFactory()
        login(member(home))
    add_catalogue(kongsberg, 5)
    small = cold_query_counts(app, client)
    add_catalogue(OrganisationFactory(), 30)
    add_catalogue(kongsberg, 25)  # 60 courses in all, two sessions each
    large = cold_query_counts(app, client)
    assert small == large
    # Logged in: the login session, the memberships and (unless the page has loaded it
    # already) the home organisation, whose written form picks the language.
    logged_in = 3 if viewer != "anonymous" else 0
    for name, count in large.items():
        assert count <= CATALOGUE_LIMITS[name] + logged_in, (name, count)


def test_cached_filter_choices_save_their_queries(app, client):
    add_catalogue(OrganisationFactory(slug="kongsberg"), 10)
    choices.clear_cache(app)
    cold = query_counts(client, ["/courses/"])["/courses/"]
    warm = query_counts(client, ["/courses/"])["/courses/"]
    assert warm == cold - CHOICE_QUERIES


# Single sign-on (issue 15): an organisation's settings and the site admin's overview cost
# the same however many providers, domains and linked people there are.

SSO_PAGES = {"/o/kongsberg/admin/sso": 9, "/admin/sso": 9}


def add_sso(organisation, people: int) -> None:
    """``organisation``'s provider (made if it has none) with an approved and a waiting
    domain, and ``people`` more accounts linked to it."""
    provider = db.session.scalar(select(IdentityProvider).filter_by(
        organisation_id=organisation.id))
    if provider is None:
        provider = IdentityProvider(organisation=organisation,
                                    issuer=f"https://login.{organisation.slug}.example.org",
                                    client_id="portal",
                                    client_secret_encrypted=crypto.encrypt("x"))
        provider.domains = [
            SsoDomain(organisation=organisation, domain=f"{organisation.slug}.example.org",
                      approved_at=utcnow()),
            SsoDomain(organisation=organisation, domain=f"ansatt.{organisation.slug}.no")]
        db.session.add(provider)
        db.session.flush()
    for _number in range(people):
        person = member(organisation)
        db.session.add(ExternalIdentity(organisation_id=organisation.id, provider=provider,
                                        user=person, subject=f"sub-{person.id}",
                                        last_login_at=utcnow()))
    db.session.commit()


def test_sso_pages_do_not_query_per_provider_domain_or_person(app, client, login):
    kongsberg = OrganisationFactory(slug="kongsberg")
    login(UserFactory(is_site_admin=True))
    add_sso(kongsberg, 2)
    add_sso(OrganisationFactory(), 1)
    small = query_counts(client, SSO_PAGES)
    add_sso(kongsberg, 20)
    for _number in range(5):
        add_sso(OrganisationFactory(), 3)
    large = query_counts(client, SSO_PAGES)
    assert small == large
    for path, count in large.items():
        assert count <= SSO_PAGES[path], (path, count)
