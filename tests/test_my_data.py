"""My data: the export holds every kind of personal row, and no kind can be forgotten."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest

import frikomport.models  # noqa: F401  (every model's table, for the column walk)
from frikomport.audit.services import record
from frikomport.billing.models import InvoiceLine
from frikomport.competence.models import (
    Certificate,
    Competence,
    CompetenceRecord,
    CourseInvitation,
    RecordSource,
    RecordStatus,
    ReminderSent,
)
from frikomport.extensions import db
from frikomport.notifications.services import queue_email
from frikomport.privacy.export import LABELS
from frikomport.privacy.inventory import NOT_ABOUT_A_PERSON, SOURCES, is_personal_column
from frikomport.registrations.models import RegistrationEvent, RegistrationState
from frikomport.sso import crypto
from frikomport.sso.models import ExternalIdentity, IdentityProvider, SsoDomain
from frikomport.tenancy import invitations
from frikomport.tenancy.models import Role
from frikomport.units.models import Unit, UnitLeader
from tests.factories import CourseFactory, OrganisationFactory, member, register


def test_every_column_shown_has_a_readable_name():
    """The page and the readable file name each field in the reader's language."""
    unnamed = {(source.key, column) for source in SOURCES for column in source.columns
               if column not in LABELS}
    assert not unnamed, f"columns without a label in privacy.export.LABELS: {sorted(unnamed)}"


def test_every_personal_column_of_every_table_is_in_the_inventory():
    """A new model with a reference to an account, an e-mail address or a phone number
    must be added to privacy.inventory (or explained in NOT_ABOUT_A_PERSON)."""
    covered = {(source.model.__table__.name, column) for source in SOURCES
               for column in source.covers}
    personal = {(table.name, column.name) for table in db.metadata.sorted_tables
                for column in table.columns if is_personal_column(column)}
    forgotten = personal - covered - NOT_ABOUT_A_PERSON.keys()
    assert not forgotten, f"personal columns not in privacy.inventory: {sorted(forgotten)}"
    assert covered <= personal, "a source covers a column that is not personal: fix its covers"


@pytest.fixture
def person(app):
    """Someone with a row of every kind the inventory knows."""
    home, other = OrganisationFactory(name="Hjemkommune"), OrganisationFactory(name="Vertskommune")
    person = member(home, Role.ORGANISER, name="Petra Person", email="petra@example.org",
                    phone="41234567", job_title="Sykepleier")
    admin = member(other, Role.ADMIN, name="Anders Admin")
    course = CourseFactory(organisation=other, title="Førstehjelp")
    registration = register(course, person, RegistrationState.CONFIRMED, comment="Nøtteallergi")
    db.session.add(RegistrationEvent(organisation_id=other.id, registration=registration,
                                     actor_id=person.id, from_state=None, to_state="confirmed"))
    own_course = CourseFactory(organisation=home, title="Eget kurs", created_by_id=person.id,
                               contact_email=person.email, contact_name=person.name)
    register(own_course, admin, RegistrationState.WAITLISTED)
    invitations.invite(db.session, admin, other, email=person.email, name="Petra",
                       role=Role.EMPLOYEE)
    db.session.add(InvoiceLine(
        organisation_id=other.id, registration_id=registration.id,
        buyer_organisation_id=home.id, buyer_name=home.name, participant_name=person.name,
        course_id=course.id, course_title=course.title, reference="Koststed 12",
        amount_ore=50_000, invoice_number="F-1"))
    queue_email(db.session, person.email, "Velkommen", "Hei Petra")
    record(db.session, admin, "registration.changed", registration, other,
           user=person.email)
    _competence_rows(person, admin, home, course)
    _sso_rows(person, home)
    db.session.commit()
    return person


def _sso_rows(person, home) -> None:
    """A login through the home organisation's provider, and a domain the person
    approved (as if a site admin)."""
    provider = IdentityProvider(organisation=home, label="Hjemkommune (Entra ID)",
                                issuer="https://login.hjem.example.org", client_id="portal",
                                client_secret_encrypted=crypto.encrypt("x"))
    db.session.add(provider)
    db.session.flush()
    db.session.add_all([
        ExternalIdentity(organisation_id=home.id, provider=provider, user_id=person.id,
                         subject="sub-petra-0042",
                         last_login_at=datetime(2026, 3, 1, 9, tzinfo=UTC)),
        SsoDomain(organisation_id=home.id, provider=provider, domain="hjem.example.org",
                  approved_by_id=person.id, approved_at=datetime(2026, 2, 1, 9, tzinfo=UTC)),
    ])


def _competence_rows(person, admin, home, course) -> None:
    """The person's unit and leadership, a record of theirs and one they decided, a
    certificate, a reminder and course invitations (to them and from them)."""
    unit = Unit(organisation_id=home.id, name="Hjemmetjenesten")
    hlr = Competence(name="HLR", validity_months=12)
    db.session.add_all([unit, hlr])
    db.session.flush()
    person.memberships[0].unit_id = unit.id
    colleague = member(home, name="Kari Kollega")
    db.session.add_all([
        UnitLeader(organisation_id=home.id, unit_id=unit.id, user_id=person.id),
        CompetenceRecord(user_id=person.id, competence_id=hlr.id, source=RecordSource.COURSE,
                         valid_from=date(2026, 1, 10), valid_until=date(2027, 1, 10),
                         title="Førstehjelp", issuer="Vertskommune"),
        CompetenceRecord(user_id=colleague.id, competence_id=hlr.id,
                         source=RecordSource.EXTERNAL, status=RecordStatus.APPROVED,
                         valid_from=date(2026, 2, 1), title="HLR-kurs", issuer="Røde Kors",
                         organisation_id=home.id, decided_by_id=person.id,
                         decision_note="Godkjent kursbevis"),
        Certificate(organisation_id=course.organisation_id, user_id=person.id,
                    code="ABCD-EFGH-JKMN", name=person.name, course_title="Førstehjelp",
                    host_name="Vertskommune", first_day=date(2026, 1, 10),
                    last_day=date(2026, 1, 10)),
        ReminderSent(user_id=person.id, competence_id=hlr.id, valid_until=date(2027, 1, 10),
                     days=60),
        CourseInvitation(organisation_id=course.organisation_id, course_id=course.id,
                         user_id=person.id, sent_by_id=admin.id),
        CourseInvitation(organisation_id=course.organisation_id, course_id=course.id,
                         user_id=colleague.id, sent_by_id=person.id),
    ])


def _download(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    return response


def test_the_export_has_a_row_of_every_kind(client, login, person):
    login(person)  # also makes a login session
    data = json.loads(_download(client, "/me/data.json").data)
    sections = data["sections"]
    assert set(sections) == {source.key for source in SOURCES}
    empty = [key for key, rows in sections.items() if not rows]
    assert not empty, f"the fixture should give every section a row: {empty}"
    assert sections["account"][0]["phone"] == "41234567"
    assert sections["account"][0]["employer"] == "Hjemkommune"
    [registration] = [r for r in sections["registrations"] if r["course"] == "Førstehjelp"]
    assert registration["comment"] == "Nøtteallergi" and registration["state"] == "confirmed"
    assert "Hei Petra" in {email["body_text"] for email in sections["emails"]}
    assert any(entry["action"] == "registration.changed" for entry in sections["audit_log"])
    assert "password_hash" not in json.dumps(data) and "token" not in json.dumps(data)
    assert sections["memberships"][0]["unit"] == "Hjemmetjenesten"
    assert [(r["competence"], r["valid_until"]) for r in sections["competence_records"]] == [
        ("HLR", "2027-01-10")]
    assert [(r["competence"], r["decision_note"]) for r in sections["competence_decisions"]
            ] == [("HLR", "Godkjent kursbevis")]
    assert [c["code"] for c in sections["certificates"]] == ["ABCD-EFGH-JKMN"]
    assert [u["unit"] for u in sections["unit_leaderships"]] == ["Hjemmetjenesten"]
    assert sorted((i["invited"], i["sent_by"]) for i in sections["course_invitations"]) == [
        ("Kari Kollega", "Petra Person"), ("Petra Person", "Anders Admin")]
    assert sections["competence_reminders"][0]["competence"] == "HLR"
    [linked] = sections["linked_logins"]
    assert (linked["login_service"], linked["organisation"], linked["service_address"],
            linked["identifier"]) == ("Hjemkommune (Entra ID)", "Hjemkommune",
                                      "https://login.hjem.example.org", "sub-petra-0042")
    assert linked["last_login_at"].startswith("2026-03-01")
    assert "client_secret" not in json.dumps(data)
    assert [(d["domain"], d["organisation"]) for d in sections["sso_domain_approvals"]] == [
        ("hjem.example.org", "Hjemkommune")]


def test_the_zip_holds_json_a_readable_page_and_csv_per_section(client, login, person):
    login(person)
    archive = zipfile.ZipFile(io.BytesIO(_download(client, "/me/data.zip").data))
    names = set(archive.namelist())
    assert {"data.json", "index.html", "registrations.csv", "account.csv"} <= names
    page = archive.read("index.html").decode()
    assert "Nøtteallergi" in page and "Petra Person" in page and '<html lang="nb"' in page
    rows = list(csv.DictReader(io.StringIO(archive.read("registrations.csv").decode("utf-8-sig")),
                               delimiter=";"))
    assert {row["course"] for row in rows} == {"Førstehjelp"}


def test_the_page_shows_every_section_and_is_only_for_the_person(client, login, person):
    assert client.get("/me/data").status_code == 302  # log in first
    login(person)
    page = client.get("/me/data").text
    for source in SOURCES:
        assert f'id="section-{source.key}"' in page
    assert "Nøtteallergi" in page and "Sykepleier" in page
    assert "sub-petra-0042" in page and "https://login.hjem.example.org" in page
    assert "Anders Admin" not in page.split('id="section-account"')[1].split("</section>")[0]
    assert "/me/data" in client.get("/profile").text
