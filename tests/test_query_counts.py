"""List pages and feeds run a constant, small number of SQL queries, however many courses."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from frikomport.extensions import db
from frikomport.tenancy.models import Role
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    LocationFactory,
    OrganisationFactory,
    ServiceAreaFactory,
    in_days,
    member,
)

PAGES = {
    "/courses/": 8,
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
