"""External certificates of someone who leaves an organisation: the organisation they
left neither decides nor receives them, and the employer moves to one they are still in."""

from __future__ import annotations

from frikomport.competence.models import CompetenceRecord, RecordStatus
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from tests.competence.builders import (
    decide,
    fetch_file,
    make_unit,
    membership_of,
    records_of,
    upload,
)
from tests.factories import MembershipFactory, member


def _remove(client, login, organisation, person):
    """An admin of ``organisation`` removes ``person`` from it (and stays logged in)."""
    admin = member(organisation, Role.ADMIN, name="Kari Nordmann")
    login(admin)
    membership = membership_of(person, organisation)
    response = client.post(f"/o/{organisation.slug}/admin/members/{membership.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    return admin


def _is_out_of_reach(client, organisation, record) -> None:
    """The organisation's deciders no longer see, open or decide the record."""
    page = client.get(f"/o/{organisation.slug}/admin/competence/approvals")
    assert page.status_code == 200 and "Førstehjelp grunnkurs" not in page.text
    assert fetch_file(client, record).status_code == 404
    assert decide(client, organisation, record).status_code == 404
    db.session.expire_all()
    assert db.session.get(CompetenceRecord, record.id).status == RecordStatus.PENDING


def test_leaving_moves_the_employer_to_an_organisation_the_person_is_still_in(
        client, login, kongsberg, notodden, person, first_aid, pending):
    MembershipFactory(organisation=notodden, user=person)
    _remove(client, login, kongsberg, person)
    assert person.home_organisation_id == notodden.id and person.employer == notodden
    _is_out_of_reach(client, kongsberg, pending)
    client.post("/logout")
    login(person)
    assert upload(client, first_aid.id, title="Nytt bevis").status_code == 302
    assert [r.organisation_id for r in records_of(person)] == [kongsberg.id, notodden.id]
    assert client.get(f"/me/competence/external/{pending.id}/file").status_code == 200


def test_leaving_the_only_organisation_leaves_no_employer_and_no_upload(
        client, login, kongsberg, person, first_aid, pending):
    leader = member(kongsberg)
    make_unit(kongsberg, "Hjemmetjenesten", people=[person], leaders=[leader])
    _remove(client, login, kongsberg, person)
    assert person.home_organisation_id is None and person.employer is None
    _is_out_of_reach(client, kongsberg, pending)
    client.post("/logout")
    login(leader)
    _is_out_of_reach(client, kongsberg, pending)
    client.post("/logout")
    login(person)
    assert "Du kan legge dem til når du er medlem av en" in client.get("/me/competence").text
    assert upload(client, first_aid.id).status_code == 400
    assert len(records_of(person)) == 1


def test_leaving_another_organisation_keeps_the_employer(client, login, kongsberg, notodden,
                                                        person):
    MembershipFactory(organisation=notodden, user=person)
    _remove(client, login, notodden, person)
    assert person.home_organisation_id == kongsberg.id


def test_a_stale_home_organisation_neither_decides_nor_receives_uploads(
        client, login, kongsberg, notodden, person, first_aid, pending):
    """Someone who left before home organisations were moved still has the old one as
    employer: it is not a member's organisation, so it neither decides their record nor
    gets their next upload (their first organisation does)."""
    MembershipFactory(organisation=notodden, user=person)
    db.session.delete(membership_of(person, kongsberg))
    db.session.commit()
    assert person.home_organisation_id == kongsberg.id
    login(member(kongsberg, Role.ADMIN))
    _is_out_of_reach(client, kongsberg, pending)
    client.post("/logout")
    login(person)
    assert upload(client, first_aid.id, title="Nytt bevis").status_code == 302
    assert [r.organisation_id for r in records_of(person)] == [kongsberg.id, notodden.id]
