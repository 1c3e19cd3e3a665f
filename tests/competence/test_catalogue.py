"""The competence catalogue (the region's and an organisation's own), which competences a
course grants, and the way from a grant to a person's record."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.competence import catalogue
from frikomport.competence.catalogue import CompetenceData
from frikomport.competence.models import (
    Competence,
    CompetenceRecord,
    CourseCompetence,
    RecordSource,
    Requirement,
)
from frikomport.competence.records import add_months
from frikomport.courses.models import Course
from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.registrations.models import RegistrationState as State
from frikomport.tenancy.models import Role
from frikomport.timeutil import local_to_utc
from frikomport.units.models import Unit
from tests.competence.builders import competence
from tests.factories import CourseFactory, UserFactory, member, register
from tests.test_courses import course_form
from tests.test_query_counts import query_counts

REGION = "/admin/competences"
OWN = "/o/kongsberg/admin/competences"


def _names(organisation) -> list[str]:
    return [c.name for c in catalogue.usable(db.session, organisation)]


def _grants(course) -> set[int]:
    return set(db.session.scalars(select(CourseCompetence.competence_id)
                                  .where(CourseCompetence.course_id == course.id)))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def site_admin(app):
    return UserFactory(is_site_admin=True)


# The region's catalogue ------------------------------------------------------------------

def test_site_admin_curates_the_region_catalogue(client, login, site_admin):
    login(site_admin)
    response = client.post(REGION, data={"name": " HLR ", "description": "Hjerte-lunge-redning",
                                         "validity_months": "12"})
    assert response.status_code == 302
    hlr = db.session.scalars(select(Competence)).one()
    assert (hlr.name, hlr.organisation_id, hlr.validity_months) == ("HLR", None, 12)
    page = client.get(REGION).text
    assert "Kompetansekatalog" in page and "12 måneder" in page
    assert f'href="{REGION}"' in client.get("/admin/").text  # in the site admin's menu
    client.post(f"{REGION}/{hlr.id}", data={"name": "HLR voksen", "description": "",
                                            "validity_months": ""})
    db.session.refresh(hlr)
    assert (hlr.name, hlr.validity_months) == ("HLR voksen", None)
    assert "Utløper ikke" in client.get(REGION).text
    client.post(f"{REGION}/{hlr.id}/delete")
    assert db.session.scalars(select(Competence)).all() == []
    assert _actions() == ["competence.created", "competence.updated", "competence.deleted"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ORGANISER, Role.EMPLOYEE])
def test_only_the_site_admin_reaches_the_region_catalogue(client, login, kongsberg, role):
    hlr = competence("HLR")
    login(member(kongsberg, role))
    assert client.get(REGION).status_code == 404
    assert client.post(REGION, data={"name": "Ny", "validity_months": "1"}).status_code == 404
    assert client.post(f"{REGION}/{hlr.id}", data={"name": "Endret"}).status_code == 404
    assert client.post(f"{REGION}/{hlr.id}/delete").status_code == 404
    # Nor through the organisation's pages: a region competence is not its own.
    assert client.post(f"{OWN}/{hlr.id}", data={"name": "Endret"}).status_code in (403, 404)
    assert client.post(f"{OWN}/{hlr.id}/delete").status_code in (403, 404)
    db.session.refresh(hlr)
    assert hlr.name == "HLR" and len(db.session.scalars(select(Competence)).all()) == 1
    with pytest.raises(DomainError):  # the service says the same without the web
        catalogue.create(db.session, member(kongsberg, Role.ADMIN), None, CompetenceData("X"))


def test_region_url_with_an_organisations_competence_is_not_found(client, login, kongsberg,
                                                                  site_admin):
    own = competence("Eget kurs", organisation=kongsberg)
    login(site_admin)
    assert client.get(f"{REGION}/{own.id}").status_code == 404
    assert client.get(f"{REGION}/999999").status_code == 404


# An organisation's own ---------------------------------------------------------------------

def test_organisation_admin_curates_its_own(client, login, kongsberg):
    competence("HLR")
    login(member(kongsberg, Role.ADMIN))
    assert f'href="{OWN}"' in client.get("/o/kongsberg/admin/").text  # back-office menu
    client.post(OWN, data={"name": "Brannvern", "description": "Slokking",
                           "validity_months": "24"})
    own = db.session.scalars(select(Competence).where(Competence.name == "Brannvern")).one()
    assert own.organisation_id == kongsberg.id
    page = client.get(OWN).text
    assert "Våre egne kompetanser" in page and "Brannvern" in page
    assert "HLR" in page and f'href="{REGION}/' not in page  # the region's, read only
    assert "Gyldigheten sier hvor lenge" in page  # the help text
    client.post(f"{OWN}/{own.id}", data={"name": "Brannvern grunnkurs", "description": "",
                                         "validity_months": "36"})
    db.session.refresh(own)
    assert (own.name, own.validity_months, own.description) == ("Brannvern grunnkurs", 36, "")
    log = client.get("/o/kongsberg/admin/audit").text
    assert "la til kompetansen" in log and "endret kompetansen" in log
    assert "«24» → «36»" in log
    own_id = own.id
    client.post(f"{OWN}/{own_id}/delete")
    assert db.session.get(Competence, own_id) is None
    assert "slettet kompetansen" in client.get("/o/kongsberg/admin/audit").text


def test_organisers_employees_and_outsiders_cannot_curate(client, login, kongsberg, notodden):
    own = competence("Brannvern", organisation=kongsberg)
    for person, status in ((member(kongsberg, Role.ORGANISER), 403),
                           (member(kongsberg, Role.EMPLOYEE), 403),
                           (member(notodden, Role.ADMIN), 404)):
        login(person)
        assert client.get(OWN).status_code == status
        assert client.post(OWN, data={"name": "Ny"}).status_code == status
        assert client.post(f"{OWN}/{own.id}/delete").status_code == status
        client.post("/logout")
    # Another organisation's admin, through their own pages: not found.
    login(member(notodden, Role.ADMIN))
    assert client.get(f"/o/notodden/admin/competences/{own.id}").status_code == 404
    assert client.post(f"/o/notodden/admin/competences/{own.id}/delete").status_code == 404
    assert db.session.get(Competence, own.id) is not None
    assert db.session.scalars(select(Competence)).all() == [own]


def test_own_competences_are_never_shown_to_other_organisations(client, login, kongsberg,
                                                                notodden):
    competence("HLR")
    competence("Kongsbergs hemmelighet", organisation=kongsberg)
    competence("Notoddens egen", organisation=notodden)
    assert _names(kongsberg) == ["HLR", "Kongsbergs hemmelighet"]
    assert _names(notodden) == ["HLR", "Notoddens egen"]
    login(member(notodden, Role.ADMIN))
    assert "Kongsbergs hemmelighet" not in client.get("/o/notodden/admin/competences").text
    assert "Kongsbergs hemmelighet" not in client.get("/o/notodden/admin/courses/new").text


# Rules -------------------------------------------------------------------------------------

def test_names_are_unique_per_scope_and_own_names_may_not_repeat_the_region(
        client, login, kongsberg, notodden, site_admin):
    competence("HLR")
    competence("Brannvern", organisation=kongsberg)
    login(member(kongsberg, Role.ADMIN))
    response = client.post(OWN, data={"name": "hlr", "validity_months": "12"})
    assert response.status_code == 400
    assert "«HLR» finnes allerede i regionens katalog" in response.text
    response = client.post(OWN, data={"name": "BRANNVERN"})
    assert response.status_code == 400
    assert "Organisasjonen deres har allerede en kompetanse som heter «Brannvern»" in response.text
    client.post("/logout")
    login(member(notodden, Role.ADMIN))  # another organisation may have the same own name
    assert client.post("/o/notodden/admin/competences",
                       data={"name": "Brannvern"}).status_code == 302
    client.post("/logout")
    login(site_admin)
    assert "finnes allerede" in client.post(REGION, data={"name": "Hlr"}).text
    # The region may take a name an organisation uses: its catalogue is not held back.
    assert client.post(REGION, data={"name": "Brannvern"}).status_code == 302
    assert sorted(_names(kongsberg)) == ["Brannvern", "Brannvern", "HLR"]


@pytest.mark.parametrize("months, message", [
    ("0", "Gyldig i (måneder): Skriv et antall måneder fra 1 til 600"),
    ("601", "Gyldig i (måneder): Skriv et antall måneder fra 1 til 600"),
    ("-3", "Gyldig i (måneder): Skriv et antall måneder fra 1 til 600"),
    ("abc", "Gyldig i (måneder): Ikke en gyldig heltallsverdi"),
    ("1.5", "Gyldig i (måneder): Ikke en gyldig heltallsverdi"),
])
def test_validity_out_of_range_is_refused_with_a_message(client, login, kongsberg, months,
                                                         message):
    login(member(kongsberg, Role.ADMIN))
    response = client.post(OWN, data={"name": "Brannvern", "validity_months": months})
    assert response.status_code == 400
    assert message in response.text and "Feil:" in response.text
    assert db.session.scalars(select(Competence)).all() == []


def test_validity_rules_hold_in_the_service(app, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    for months in (0, 601, True, 12.0):
        with pytest.raises(DomainError, match="1 til 600"):
            catalogue.create(db.session, admin, kongsberg, CompetenceData("X", "", months))
    with pytest.raises(DomainError, match="må ha et navn"):
        catalogue.create(db.session, admin, kongsberg, CompetenceData("   "))
    longest = catalogue.create(db.session, admin, kongsberg, CompetenceData("Lang", "", 600))
    forever = catalogue.create(db.session, admin, kongsberg, CompetenceData("Evig", "", None))
    db.session.commit()
    assert (longest.validity_months, forever.validity_months) == (600, None)


def test_a_competence_people_hold_or_units_require_cannot_be_deleted(client, login,
                                                                       kongsberg):
    held = competence("Brannvern", organisation=kongsberg)
    required = competence("Smittevern", organisation=kongsberg)
    granted = competence("Hygiene", organisation=kongsberg)
    for _ in range(2):
        db.session.add(CompetenceRecord(user_id=member(kongsberg).id, competence_id=held.id,
                                        source=RecordSource.COURSE,
                                        valid_from=date(2026, 1, 1)))
    unit = Unit(organisation_id=kongsberg.id, name="Barnehagen")
    db.session.add(unit)
    db.session.flush()
    db.session.add(Requirement(organisation_id=kongsberg.id, unit_id=unit.id,
                               competence_id=required.id))
    course = CourseFactory(organisation=kongsberg)
    db.session.add(CourseCompetence(organisation_id=kongsberg.id, course_id=course.id,
                                    competence_id=granted.id))
    db.session.commit()
    login(member(kongsberg, Role.ADMIN))
    page = client.post(f"{OWN}/{held.id}/delete", follow_redirects=True).text
    assert "«Brannvern» kan ikke slettes: 2 personer har den registrert." in page
    page = client.post(f"{OWN}/{required.id}/delete", follow_redirects=True).text
    assert "«Smittevern» kan ikke slettes: 1 enhet krever den." in page
    assert len(db.session.scalars(select(CompetenceRecord)).all()) == 2
    assert {c.name for c in db.session.scalars(select(Competence))} == {
        "Brannvern", "Smittevern", "Hygiene"}
    # A course that grants it just stops granting it.
    page = client.post(f"{OWN}/{granted.id}/delete", follow_redirects=True).text
    assert "«Hygiene» er slettet." in page and "1 kurs gir den ikke lenger." in page
    assert _grants(course) == set()


# Courses that grant competences ------------------------------------------------------------

@pytest.fixture
def organiser(kongsberg, login):
    user = member(kongsberg, Role.ORGANISER)
    login(user)
    return user


def test_the_course_form_saves_the_competences_it_grants(client, organiser, kongsberg,
                                                          notodden):
    hlr = competence("HLR", months=12)
    own = competence("Brannvern", months=None, organisation=kongsberg)
    foreign = competence("Notoddens egen", organisation=notodden)
    form_page = client.get("/o/kongsberg/admin/courses/new").text
    assert "Kompetanser kurset gir" in form_page
    assert "HLR (gyldig 12 måneder)" in form_page and "Brannvern (utløper ikke)" in form_page
    assert "Notoddens egen" not in form_page
    response = client.post("/o/kongsberg/admin/courses/new",
                           data=course_form(competences=[str(hlr.id), str(own.id)]))
    assert response.status_code == 302
    course = db.session.scalars(select(Course)).one()
    assert _grants(course) == {hlr.id, own.id}
    edit = f"/o/kongsberg/admin/courses/{course.id}/edit"
    assert client.get(edit).text.count(" checked") == 2
    # Another organisation's own competence: refused with a message, nothing changes.
    response = client.post(edit, data=course_form(competences=[str(hlr.id), str(foreign.id)]))
    assert response.status_code == 400
    assert "Et kurs kan bare gi kompetanser fra regionens katalog" in response.text
    assert client.post(edit, data=course_form(competences=["abc"])).status_code == 400
    assert client.post(edit, data=course_form(competences=["999999"])).status_code == 400
    assert client.post(edit, data=course_form(
        competences=["99999999999999999999"])).status_code == 400
    assert _grants(course) == {hlr.id, own.id}
    client.post(edit, data=course_form(competences=[str(hlr.id)]))
    assert _grants(course) == {hlr.id}
    assert _actions().count("course.competences_changed") == 2
    client.post(edit, data=course_form())  # none ticked: grants nothing
    assert _grants(course) == set()


def test_a_copied_course_grants_the_same(client, organiser, kongsberg):
    hlr = competence("HLR")
    course = CourseFactory(organisation=kongsberg)
    catalogue.set_granted(db.session, organiser, course, [hlr.id])
    db.session.commit()
    client.post(f"/o/kongsberg/admin/courses/{course.id}/copy")
    copy = db.session.scalars(select(Course).where(Course.id != course.id)).one()
    assert _grants(copy) == {hlr.id}


def test_the_course_page_shows_what_the_course_gives(client, kongsberg):
    hlr = competence("HLR", months=12)
    taushet = competence("Taushetsplikt", months=None, organisation=kongsberg)
    course = CourseFactory(organisation=kongsberg)
    plain = CourseFactory(organisation=kongsberg)
    db.session.add_all(CourseCompetence(organisation_id=kongsberg.id, course_id=course.id,
                                        competence_id=c.id) for c in (hlr, taushet))
    db.session.commit()
    page = client.get(f"/courses/{course.id}").text
    assert "Gir kompetanse" in page
    assert "HLR (gyldig 12 måneder)" in page and "Taushetsplikt (utløper ikke)" in page
    assert "Gir kompetanse" not in client.get(f"/courses/{plain.id}").text


def test_attendance_marked_on_the_participants_page_records_the_competence(
        client, organiser, kongsberg):
    """From the catalogue through the course form to the records: the last Oslo day of
    the course plus the validity (a late-evening session still counts on its Oslo day)."""
    hlr = competence("HLR", months=12)
    taushet = competence("Taushetsplikt", months=None, organisation=kongsberg)
    last_day = date(2026, 1, 31)
    course = CourseFactory(organisation=kongsberg, sessions=[
        (local_to_utc(date(2026, 1, 30), time(9)), local_to_utc(date(2026, 1, 30), time(15))),
        (local_to_utc(last_day, time(22)), local_to_utc(last_day, time(23, 30)))])
    catalogue.set_granted(db.session, organiser, course, [hlr.id, taushet.id])
    db.session.commit()
    people = [member(kongsberg), member(kongsberg)]
    registrations = [register(course, person) for person in people]
    response = client.post(
        f"/o/kongsberg/admin/courses/{course.id}/participants/bulk/attended",
        data={"registration": [str(r.id) for r in registrations]})
    assert response.status_code == 302
    assert {r.state for r in db.session.scalars(select(type(registrations[0])))} == {
        State.ATTENDED}
    got = {(r.user_id, r.competence_id): (r.valid_from, r.valid_until)
           for r in db.session.scalars(select(CompetenceRecord))}
    assert got == {(person.id, competence.id): (last_day, until)
                   for person in people
                   for competence, until in ((hlr, add_months(last_day, 12)),
                                             (taushet, None))}


def test_pages_cost_the_same_queries_however_large_the_catalogue(client, login, kongsberg):
    """No query per competence or per grant: the lists, the course form and the course
    page read the same number of times with 2 competences as with 60."""
    course = CourseFactory(organisation=kongsberg)
    admin = member(kongsberg, Role.ADMIN)
    login(admin)
    paths = [OWN, "/o/kongsberg/admin/courses/new",
             f"/o/kongsberg/admin/courses/{course.id}/edit", f"/courses/{course.id}"]

    def grow(start: int, count: int) -> None:
        competences = [competence(f"Regional {n}") for n in range(start, start + count)]
        competences += [competence(f"Egen {n}", months=None, organisation=kongsberg)
                        for n in range(start, start + count)]
        catalogue.set_granted(db.session, admin, course,
                              catalogue.granted_ids(course) + [c.id for c in competences])
        db.session.commit()

    grow(0, 1)
    small = query_counts(client, paths)
    grow(1, 29)
    assert query_counts(client, paths) == small
