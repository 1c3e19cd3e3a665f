"""The organisation's own course list in the back office: fifty at a time, newest start
first, by state and by words in the title, and never another tenant's courses."""

from __future__ import annotations

import re

from frikomport.courses.models import CourseState
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, in_days, member
from tests.test_query_counts import query_counts

LIST = "/o/kongsberg/admin/courses"
ROW = re.compile(r'<tr role="row">\s*<th role="rowheader"')


def titles(page: str) -> list[str]:
    return re.findall(r'/edit">(?:<span lang="[a-z]+">)?([^<]+)<', page)


def add_courses(organisation, count: int, prefix: str = "Kurs", **fields) -> None:
    for number in range(count):
        CourseFactory(organisation=organisation, title=f"{prefix} {number:03d}",
                      sessions=[in_days(number + 1)], **fields)


def test_courses_come_fifty_at_a_time_latest_first(client, login, kongsberg):
    add_courses(kongsberg, 60)
    login(member(kongsberg, Role.ORGANISER))
    first = client.get(LIST).text
    assert len(ROW.findall(first)) == 50 and "60 kurs" in first
    assert titles(first)[:2] == ["Kurs 059", "Kurs 058"]
    assert "Side 1 av 2" in first and 'rel="next"' in first
    second = client.get(LIST, query_string={"page": 2}).text
    assert titles(second)[-1] == "Kurs 000" and len(ROW.findall(second)) == 10
    # Beyond the end: the last page; junk: the first.
    assert titles(client.get(LIST, query_string={"page": 10**12}).text) == titles(second)
    assert titles(client.get(LIST, query_string={"page": "to"}).text) == titles(first)


def test_search_by_title_ignores_case_and_keeps_the_state_filter(client, login, kongsberg):
    add_courses(kongsberg, 3, prefix="Førstehjelp")
    add_courses(kongsberg, 2, prefix="Førstehjelp utkast", state=CourseState.DRAFT)
    add_courses(kongsberg, 4, prefix="Brannvern")
    login(member(kongsberg, Role.ORGANISER))
    found = client.get(LIST, query_string={"q": "FØRSTEHJELP"}).text
    assert len(titles(found)) == 5 and "5 kurs" in found
    assert 'href="/o/kongsberg/admin/courses?q=F%C3%98RSTEHJELP&amp;state=draft"' in found
    drafts = client.get(LIST, query_string={"q": "førstehjelp", "state": "draft"}).text
    assert sorted(titles(drafts)) == ["Førstehjelp utkast 000", "Førstehjelp utkast 001"]
    assert '<input type="hidden" name="state" value="draft">' in drafts
    wildcard = client.get(LIST, query_string={"q": "%"}).text  # a LIKE wildcard is a letter
    assert "Ingen kurs passer med «%»." in wildcard and titles(wildcard) == []


def test_another_tenants_courses_never_show(client, login, kongsberg, notodden):
    add_courses(notodden, 3, prefix="Notodden")
    add_courses(kongsberg, 1, prefix="Kongsberg")
    login(member(kongsberg, Role.ORGANISER))
    assert titles(client.get(LIST, query_string={"q": "o"}).text) == ["Kongsberg 000"]


def test_the_list_runs_as_many_queries_for_120_courses_as_for_5(client, login, kongsberg):
    login(member(kongsberg, Role.ORGANISER))
    add_courses(kongsberg, 5)
    small = query_counts(client, [LIST, f"{LIST}?q=kurs&state=published&page=2"])
    add_courses(kongsberg, 115, prefix="Flere")
    large = query_counts(client, [LIST, f"{LIST}?q=kurs&state=published&page=2"])
    assert list(small.values()) == list(large.values())
