"""Units in the back office: creating, renaming and deleting them, placing members,
naming leaders and requiring competences (issue 14)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from frikomport.audit.models import AuditEvent
from frikomport.competence import requirements
from frikomport.competence.models import Requirement
from frikomport.errors import DomainError, NotFoundError, PermissionDeniedError
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from frikomport.units import services
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

UNITS = "/o/kongsberg/admin/units"


def _actions(organisation) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.organisation_id == organisation.id, AuditEvent.action.like("unit.%"))
        .order_by(AuditEvent.id)))


def test_an_admin_creates_renames_and_deletes_a_unit(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    assert f'href="{UNITS}"' in client.get("/o/kongsberg/admin/").text  # back-office menu
    response = client.post(UNITS, data={"name": "  Hjemmetjenesten "})
    unit = db.session.scalar(select(Unit).where(Unit.organisation_id == kongsberg.id))
    assert unit.name == "Hjemmetjenesten"
    assert response.headers["Location"] == f"{UNITS}/{unit.id}"
    assert "Hjemmetjenesten" in client.get(UNITS).text

    response = client.post(f"{UNITS}/{unit.id}", data={"name": "Hjemmebaserte tjenester"})
    assert response.status_code == 302
    db.session.refresh(unit)
    assert unit.name == "Hjemmebaserte tjenester"

    unit_id = unit.id
    response = client.post(f"{UNITS}/{unit_id}/delete")
    assert response.headers["Location"] == UNITS
    assert db.session.get(Unit, unit_id) is None
    assert _actions(kongsberg) == ["unit.created", "unit.renamed", "unit.deleted"]
    log = client.get("/o/kongsberg/admin/audit").text
    assert "opprettet enheten" in log and "slettet enheten" in log
    assert "endret navnet på enheten til" in log


def test_a_unit_name_is_needed_and_unique_whatever_the_case(client, login, kongsberg,
                                                            notodden):
    login(member(kongsberg, Role.ADMIN))
    make_unit(kongsberg, "Omsorg")
    make_unit(notodden, "Skole")  # another organisation may use any name
    response = client.post(UNITS, data={"name": "omsorg "})
    assert response.status_code == 400
    assert "Det finnes allerede en enhet som heter «omsorg»." in response.text
    assert client.post(UNITS, data={"name": "Skole"}).status_code == 302
    assert client.post(UNITS, data={"name": "   "}).status_code == 400
    assert client.post(UNITS, data={"name": "x" * 121}).status_code == 400
    other = make_unit(kongsberg, "Barnehage")
    response = client.post(f"{UNITS}/{other.id}", data={"name": "OMSORG"})
    assert response.status_code == 400 and "finnes allerede" in response.text
    assert db.session.scalar(select(func.count()).select_from(Unit).where(
        Unit.organisation_id == kongsberg.id)) == 3


def test_deleting_a_unit_leaves_its_members_unplaced_and_removes_leaders_and_requirements(
        client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    unit = make_unit(kongsberg, "Sykehjemmet")
    worker, boss = member(kongsberg), member(kongsberg)
    place(worker, unit)
    lead(boss, unit)
    require(unit, competence("HLR"))
    assert client.post(f"{UNITS}/{unit.id}/delete").status_code == 302
    db.session.expire_all()
    assert membership_of(worker, kongsberg).unit_id is None
    assert db.session.scalar(select(func.count()).select_from(UnitLeader)) == 0
    assert db.session.scalar(select(func.count()).select_from(Requirement)) == 0


def test_placing_moving_and_taking_out_members(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    first, second = make_unit(kongsberg, "Første"), make_unit(kongsberg, "Andre")
    ingrid = member(kongsberg, name="Ingrid Lie")
    membership = membership_of(ingrid, kongsberg)
    response = client.post(f"{UNITS}/{first.id}/members/{membership.id}?q=Ingrid",
                           follow_redirects=True)
    assert "Ingrid Lie er plassert i enheten." in response.text
    assert response.request.path == f"{UNITS}/{first.id}"
    assert response.request.args["q"] == "Ingrid"  # back to the same search
    db.session.refresh(membership)
    assert membership.unit_id == first.id

    client.post(f"{UNITS}/{second.id}/members/{membership.id}")
    db.session.refresh(membership)
    assert membership.unit_id == second.id

    response = client.post(f"{UNITS}/{first.id}/members/{membership.id}/remove",
                           follow_redirects=True)
    assert "Ingrid Lie er ikke i denne enheten." in response.text
    client.post(f"{UNITS}/{second.id}/members/{membership.id}/remove")
    db.session.refresh(membership)
    assert membership.unit_id is None
    assert _actions(kongsberg) == ["unit.member_placed", "unit.member_placed",
                                   "unit.member_removed"]


def test_leaders_are_members_of_the_organisation_in_any_role(client, login, kongsberg,
                                                            notodden):
    login(member(kongsberg, Role.ADMIN))
    unit = make_unit(kongsberg, "Skolen")
    employee, outsider = member(kongsberg, name="Eva Ansatt"), member(notodden)
    response = client.post(f"{UNITS}/{unit.id}/leaders/{employee.id}", follow_redirects=True)
    assert "Eva Ansatt leder enheten nå." in response.text
    client.post(f"{UNITS}/{unit.id}/leaders/{employee.id}")  # twice: still one leader
    assert client.post(f"{UNITS}/{unit.id}/leaders/{outsider.id}").status_code == 404
    assert [leader.user_id for leader in services.leaders_of(db.session, unit)] == [employee.id]

    assert client.post(f"{UNITS}/{unit.id}/leaders/{employee.id}/remove").status_code == 302
    assert services.leaders_of(db.session, unit) == []
    assert client.post(f"{UNITS}/{unit.id}/leaders/{employee.id}/remove").status_code == 404
    assert _actions(kongsberg) == ["unit.leader_added", "unit.leader_removed"]


def test_leaving_the_organisation_ends_leading_its_units(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    unit = make_unit(kongsberg, "Skolen")
    leader = member(kongsberg)
    lead(leader, unit)
    membership = membership_of(leader, kongsberg)
    assert client.post(f"/o/kongsberg/admin/members/{membership.id}/remove").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UnitLeader)) == 0


def test_people_to_place_are_offered_a_bounded_number_at_a_time(client, login, kongsberg):
    admin = member(kongsberg, Role.ADMIN, name="Zakarias Admin")  # by name after the others
    login(admin)
    unit, other = make_unit(kongsberg, "Skolen"), make_unit(kongsberg, "Barnehagen")
    for number in range(services.CHOICES_SHOWN + 5):
        member(kongsberg, name=f"Person {number:02d}")
    placed = member(kongsberg, name="Åse Ødegård", email="ase@kongsberg.example.org")
    place(placed, other)
    page = client.get(f"{UNITS}/{unit.id}").text
    assert "Person 00" in page and "Person 19" in page and "Person 20" not in page
    assert "Bare de første 20 vises." in page
    assert "Åse Ødegård" not in page  # in a unit already: found by searching

    page = client.get(f"{UNITS}/{unit.id}?q=ØDEGÅRD").text
    assert "Åse Ødegård" in page and "Barnehagen" in page and "Person 00" not in page
    found, more = services.candidates(db.session, admin, unit, "ase@")
    assert [c.membership.user_id for c in found] == [placed.id] and not more


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.ORGANISER])
def test_only_admins_manage_units(client, login, kongsberg, role):
    unit = make_unit(kongsberg, "Skolen")
    person = member(kongsberg, role)
    login(person)
    assert client.get(UNITS).status_code == 403
    assert client.post(UNITS, data={"name": "Ny"}).status_code == 403
    assert client.get(f"{UNITS}/{unit.id}").status_code == 403
    assert client.post(f"{UNITS}/{unit.id}/delete").status_code == 403
    membership = membership_of(person, kongsberg)
    assert client.post(f"{UNITS}/{unit.id}/members/{membership.id}").status_code == 403
    assert client.post(f"{UNITS}/{unit.id}/leaders/{person.id}").status_code == 403
    assert f'href="{UNITS}"' not in client.get("/o/kongsberg/").text
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 1
    with pytest.raises(PermissionDeniedError):
        services.create_unit(db.session, person, kongsberg, "Ny")


def test_the_unit_list_counts_members_and_requirements(app, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    big, empty = make_unit(kongsberg, "b-enheten"), make_unit(kongsberg, "A-enheten")
    for _ in range(3):
        place(member(kongsberg), big)
    require(big, competence("HLR"))
    summaries = services.list_units(db.session, admin, kongsberg)
    assert [(s.unit.id, s.members, s.requirements) for s in summaries] == [
        (empty.id, 0, 0), (big.id, 3, 1)]


# Requirements --------------------------------------------------------------------------

def test_an_admin_requires_competences_of_everyone_or_of_a_job_title(client, login,
                                                                     kongsberg):
    login(member(kongsberg, Role.ADMIN))
    unit = make_unit(kongsberg, "Sykehjemmet")
    hlr, own = competence("HLR"), competence("Våre rutiner", organisation=kongsberg)
    path = f"{UNITS}/{unit.id}/requirements"
    assert client.post(path, data={"competence": hlr.id}).status_code == 302
    assert client.post(path, data={"competence": own.id,
                                   "job_title": " Sykepleier "}).status_code == 302
    response = client.post(path, data={"competence": own.id, "job_title": "sykepleier"})
    assert response.status_code == 400
    assert "Enheten krever allerede «Våre rutiner» av disse." in response.text
    assert client.post(path, data={"competence": own.id}).status_code == 302  # of everyone
    rows = {(r.competence_id, r.job_title)
            for r in requirements.unit_requirements(db.session, unit)}
    assert rows == {(hlr.id, ""), (own.id, "Sykepleier"), (own.id, "")}
    page = client.get(f"{UNITS}/{unit.id}").text
    assert "Alle i enheten" in page and "Stillingstittel: Sykepleier" in page

    titled = next(r for r in requirements.unit_requirements(db.session, unit) if r.job_title)
    assert client.post(f"{path}/{titled.id}/remove").status_code == 302
    assert len(requirements.unit_requirements(db.session, unit)) == 2
    assert _actions(kongsberg) == [
        "unit.requirement_added", "unit.requirement_added_for_title",
        "unit.requirement_added", "unit.requirement_removed_for_title"]
    assert "fjernet kravet" in client.get("/o/kongsberg/admin/audit").text


def test_a_requirement_uses_the_regions_or_the_own_competences_only(client, login, kongsberg,
                                                                    notodden):
    admin = member(kongsberg, Role.ADMIN)
    login(admin)
    unit = make_unit(kongsberg, "Skolen")
    theirs = competence("Notoddens rutiner", organisation=notodden)
    page = client.get(f"{UNITS}/{unit.id}").text
    assert "Notoddens rutiner" not in page
    response = client.post(f"{UNITS}/{unit.id}/requirements", data={"competence": theirs.id})
    assert response.status_code == 400
    with pytest.raises(NotFoundError):
        requirements.add_requirement(db.session, admin, unit, theirs.id)
    with pytest.raises(DomainError):
        requirements.add_requirement(db.session, admin, unit, competence("HLR").id,
                                     job_title="x" * 201)
    assert requirements.unit_requirements(db.session, unit) == []


def test_a_repeated_job_title_is_refused_as_requirements_compare_titles(app, kongsberg):
    """The same rule as who a requirement applies to: Norwegian capitals fold, "ß" is
    not "ss"."""
    admin = member(kongsberg, Role.ADMIN)
    unit = make_unit(kongsberg, "Skolen")
    hlr = competence("HLR")
    for title in ("Ærlig Øvingsleder", "Straße", "STRASSE"):
        requirements.add_requirement(db.session, admin, unit, hlr.id, job_title=title)
    for title in ("ærlig øvingsleder", "ÆRLIG  ØVINGSLEDER ", "straße", "Strasse"):
        with pytest.raises(DomainError, match="krever allerede"):
            requirements.add_requirement(db.session, admin, unit, hlr.id, job_title=title)
    assert len(requirements.unit_requirements(db.session, unit)) == 3


def test_a_requirement_is_removed_only_through_its_own_unit(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    unit, other = make_unit(kongsberg, "Skolen"), make_unit(kongsberg, "Barnehagen")
    requirement = require(other, competence("HLR"))
    assert client.post(
        f"{UNITS}/{unit.id}/requirements/{requirement.id}/remove").status_code == 404
    assert db.session.get(Requirement, requirement.id) is not None


def test_which_requirements_apply_to_a_person(app, kongsberg):
    unit = make_unit(kongsberg, "Sykehjemmet")
    hlr, medicine = competence("HLR"), competence("Legemiddelhåndtering")
    require(unit, hlr)
    require(unit, medicine, "Sykepleier")
    nurse = member(kongsberg, job_title="  SYKEPLEIER ")
    assistant = member(kongsberg, job_title="Helsefagarbeider")
    unplaced = member(kongsberg, job_title="Sykepleier")
    place(nurse, unit)
    place(assistant, unit)

    def applying(person):
        return {r.competence_id for r in requirements.applying_to(
            db.session, membership_of(person, kongsberg))}

    assert applying(nurse) == {hlr.id, medicine.id}
    assert applying(assistant) == {hlr.id}
    assert applying(unplaced) == set()
