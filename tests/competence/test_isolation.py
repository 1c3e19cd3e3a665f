"""Tenant isolation of units, leaders, requirements and the matrix: nobody sees or changes
another organisation's units or people, whatever ids they put in the address."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from frikomport.competence.matrix import unit_matrix
from frikomport.competence.models import Requirement
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from frikomport.units.models import Unit, UnitLeader
from tests.competence.builders import (
    competence,
    lead,
    make_unit,
    membership_of,
    place,
    require,
)
from tests.factories import member


@pytest.fixture
def world(kongsberg, notodden):
    """Kongsberg's unit with a member, a leader and a requirement; Notodden's likewise."""
    units = {}
    for organisation in (kongsberg, notodden):
        unit = make_unit(organisation, f"Enheten i {organisation.name}")
        worker = member(organisation, name=f"Ansatt i {organisation.name}")
        place(worker, unit)
        lead(member(organisation), unit)
        requirement = require(unit, competence(f"Rutiner i {organisation.name}",
                                               organisation=organisation))
        units[organisation.slug] = (unit, worker, requirement)
    return units


def _unit_paths(unit, requirement, membership_id, user_id) -> tuple[list[str], list[str]]:
    admin, base = f"/admin/units/{unit.id}", f"/units/{unit.id}"
    gets = [admin, f"{base}/matrix", f"{base}/matrix.xlsx"]
    posts = [admin, f"{admin}/delete", f"{admin}/requirements",
             f"{admin}/requirements/{requirement.id}/remove",
             f"{admin}/members/{membership_id}", f"{admin}/members/{membership_id}/remove",
             f"{admin}/leaders/{user_id}", f"{admin}/leaders/{user_id}/remove"]
    return gets, posts


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EMPLOYEE])
def test_another_organisations_units_answer_404(client, login, kongsberg, notodden, world,
                                                role):
    """Under Notodden's address, and with Notodden's ids under one's own address (where
    an employee is refused the back office whatever the id: 403, which tells nothing)."""
    outsider = member(kongsberg, role)
    lead(outsider, world["kongsberg"][0])
    login(outsider)
    unit, worker, requirement = world["notodden"]
    membership = membership_of(worker, notodden)
    gets, posts = _unit_paths(unit, requirement, membership.id, worker.id)
    for slug in ("notodden", "kongsberg"):
        for method, path in [("get", p) for p in gets] + [("post", p) for p in posts]:
            expected = 403 if (slug == "kongsberg" and role == Role.EMPLOYEE
                               and path.startswith("/admin/")) else 404
            response = getattr(client, method)(f"/o/{slug}{path}", data={"name": "Kapret"})
            assert response.status_code == expected, (method, slug, path)
    assert client.get("/o/notodden/admin/units").status_code == 404
    assert client.get("/o/notodden/units").status_code == 404
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).name == "Enheten i Notodden kommune"
    assert membership_of(worker, notodden).unit_id == unit.id
    assert db.session.get(Requirement, requirement.id) is not None


def test_an_admin_cannot_pull_another_organisations_people_into_a_unit(client, login,
                                                                       kongsberg, notodden,
                                                                       world):
    login(member(kongsberg, Role.ADMIN))
    unit, _worker, _requirement = world["kongsberg"]
    _their_unit, theirs, their_requirement = world["notodden"]
    path = f"/o/kongsberg/admin/units/{unit.id}"
    membership = membership_of(theirs, notodden)
    assert client.post(f"{path}/members/{membership.id}").status_code == 404
    assert client.post(f"{path}/leaders/{theirs.id}").status_code == 404
    their_competence = their_requirement.competence_id
    assert client.post(f"{path}/requirements",
                       data={"competence": their_competence}).status_code == 400
    assert client.post(f"{path}/requirements/{their_requirement.id}/remove").status_code == 404
    page = client.get(f"{path}?q=Ansatt").text
    assert "Ansatt i Kongsberg kommune" in page and "Notodden" not in page
    db.session.expire_all()
    assert membership_of(theirs, notodden).unit_id == _their_unit.id
    assert db.session.scalar(select(func.count()).select_from(UnitLeader).where(
        UnitLeader.unit_id == unit.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Requirement).where(
        Requirement.unit_id == unit.id)) == 1


def test_a_matrix_never_shows_another_organisations_people(app, kongsberg, notodden, world):
    """Even a membership of Notodden that points at Kongsberg's unit (which no service
    makes) does not bring its person into Kongsberg's matrix or member list."""
    from frikomport.units.services import list_units, members_of

    unit, worker, _requirement = world["kongsberg"]
    stray = member(notodden, name="Bortkommen")
    membership_of(stray, notodden).unit_id = unit.id
    db.session.commit()
    admin = member(kongsberg, Role.ADMIN)
    assert [row.user_id for row in unit_matrix(db.session, admin, unit).rows] == [worker.id]
    assert [m.user_id for m in members_of(db.session, unit)] == [worker.id]
    assert [s.unit.id for s in list_units(db.session, admin, kongsberg)] == [unit.id]


def test_the_unit_lists_show_only_the_own_organisations_units(client, login, kongsberg,
                                                              world):
    login(member(kongsberg, Role.ADMIN))
    for path in ("/o/kongsberg/admin/units", "/o/kongsberg/units"):
        page = client.get(path).text
        assert "Enheten i Kongsberg kommune" in page
        assert "Enheten i Notodden kommune" not in page
