"""The members page of a big municipality: fifty at a time, by name, found by name or
e-mail and by role; a role change comes back to the same view."""

from __future__ import annotations

import re

from frikomport.extensions import db
from frikomport.tenancy.models import Membership, Role
from tests.factories import member
from tests.test_query_counts import query_counts

LIST = "/o/kongsberg/admin/members"


def names(page: str) -> list[str]:
    table = page[page.index('id="members"'):page.index("</table>", page.index('id="members"'))]
    return re.findall(r'<th role="rowheader" scope="row" data-label="Navn">([^<]+)</th>', table)


def add_people(organisation, count: int, prefix: str, role=Role.EMPLOYEE) -> list:
    return [member(organisation, role, name=f"{prefix} {number:03d}",
                   email=f"{prefix.lower()}{number}@{organisation.slug}.example.org")
            for number in range(count)]


def test_members_come_fifty_at_a_time_by_name(client, login, kongsberg):
    add_people(kongsberg, 60, "Ansatt")
    login(member(kongsberg, Role.ADMIN, name="Åse Admin"))
    first = client.get(LIST).text
    assert names(first)[:2] == ["Ansatt 000", "Ansatt 001"] and len(names(first)) == 50
    assert "61 medlemmer" in first and "Side 1 av 2" in first
    second = client.get(LIST, query_string={"page": 2}).text
    assert names(second)[-1] == "Åse Admin" and len(names(second)) == 11
    assert names(client.get(LIST, query_string={"page": 99999}).text) == names(second)


def test_search_by_name_or_e_mail_and_filter_by_role(client, login, kongsberg, notodden):
    add_people(kongsberg, 3, "Sykepleier")
    add_people(kongsberg, 2, "Rektor", Role.ORGANISER)
    add_people(notodden, 2, "Sykepleier")  # another tenant's people never show
    login(member(kongsberg, Role.ADMIN, name="Åse Admin"))
    assert len(names(client.get(LIST, query_string={"q": "SYKEPLEIER"}).text)) == 3
    assert names(client.get(LIST, query_string={"q": "rektor1@"}).text) == ["Rektor 001"]
    organisers = client.get(LIST, query_string={"role": "organiser"}).text
    assert names(organisers) == ["Rektor 000", "Rektor 001"]
    assert names(client.get(LIST, query_string={"q": "Å"}).text) == ["Åse Admin"]
    nobody = client.get(LIST, query_string={"q": "ukjent", "role": "nonsense"}).text
    assert names(nobody) == [] and "Ingen passer med «ukjent»." in nobody


def test_a_role_change_returns_to_the_same_search(client, login, kongsberg):
    [nurse] = add_people(kongsberg, 1, "Sykepleier")
    login(member(kongsberg, Role.ADMIN))
    page = client.get(LIST, query_string={"q": "syke"}).text
    membership = nurse.memberships[0]
    action = f"/o/kongsberg/admin/members/{membership.id}/role?q=syke"
    assert f'action="{action}"' in page
    response = client.post(action, data={"role": "organiser"})
    assert response.status_code == 302 and response.location.endswith(f"{LIST}?q=syke")
    assert db.session.get(Membership, membership.id).role == Role.ORGANISER


def test_the_page_runs_as_many_queries_for_150_members_as_for_5(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    paths = [LIST, f"{LIST}?q=ansatt&role=employee&page=2"]
    add_people(kongsberg, 5, "Ansatt")
    small = query_counts(client, paths)
    add_people(kongsberg, 145, "Flere")
    assert list(query_counts(client, paths).values()) == list(small.values())
