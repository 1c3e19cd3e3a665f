"""External certificates: uploading (only real PDF, PNG or JPEG files, at most 5 MB),
approval by the person's organisation (admins, and the leader of the person's unit),
tenant isolation, the e-mail and audit of a decision, what counts as held, and who may
download the file."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask import current_app
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from frikomport import viewhelpers
from frikomport.audit.models import AuditEvent
from frikomport.audit.sentences import describe, object_names
from frikomport.competence import external, records
from frikomport.competence.external import MAX_FILE_BYTES
from frikomport.competence.models import CompetenceRecord, RecordSource, RecordStatus
from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from tests.competence.builders import (
    PDF,
    competence,
    decide,
    fetch_file,
    make_unit,
    png,
    records_of,
    upload,
)
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, member
from tests.helpers import link_in, outbox
from tests.test_query_counts import counted_queries


def _files_of(person) -> list[Path]:
    folder = Path(current_app.config["DATA_DIR"]) / "external-certificates" / str(person.id)
    return sorted(folder.iterdir()) if folder.exists() else []



# Uploading ------------------------------------------------------------------------------

def test_a_pdf_becomes_a_pending_record_of_the_employer_with_its_file(
        client, login, kongsberg, person, first_aid):
    login(person)
    response = upload(client, first_aid.id, filename="Skann/førstehjelp.pdf")
    assert response.status_code == 302
    assert "Kompetansebeviset er lagt til" in client.get(response.location).text
    [record] = records_of(person)
    assert (record.source, record.status) == (RecordSource.EXTERNAL, RecordStatus.PENDING)
    assert record.organisation_id == kongsberg.id
    assert (record.valid_from, record.valid_until) == (date(2026, 3, 1), date(2028, 3, 1))
    assert (record.title, record.issuer) == ("Førstehjelp grunnkurs", "Røde Kors")
    assert (record.filename, record.content_type) == ("førstehjelp.pdf", "application/pdf")
    [stored] = _files_of(person)
    assert stored.name == record.stored_name and len(stored.name) == 32
    assert stored.read_bytes() == PDF


def test_a_png_and_a_jpeg_are_accepted(client, login, person, first_aid):
    login(person)
    assert upload(client, first_aid.id, png(), "bevis.png").status_code == 302
    buffer = BytesIO()
    Image.new("RGB", (30, 20), "white").save(buffer, format="JPEG")
    assert upload(client, first_aid.id, buffer.getvalue(), "bevis.JPG").status_code == 302
    assert [r.content_type for r in records_of(person)] == ["image/png", "image/jpeg"]


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "bevis.pdf",
     "Innholdet i filen stemmer ikke med navnet"),
    (b"<html><script>alert(1)</script></html>", "bevis.html", "PDF-, PNG- eller JPEG-fil"),
    (b"<html><script>alert(1)</script></html>", "bevis.pdf",
     "Innholdet i filen stemmer ikke med navnet"),
    (PDF, "bevis", "PDF-, PNG- eller JPEG-fil"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "bevis.png", "Vi klarte ikke å lese bildet"),
    (png(), "bevis.jpg", "Innholdet i filen stemmer ikke med navnet"),
    (PDF + b"0" * MAX_FILE_BYTES, "bevis.pdf", "kan være på høyst 5 MB"),
    (b"", "bevis.pdf", "Innholdet i filen stemmer ikke med navnet"),
], ids=["exe-named-pdf", "html", "html-named-pdf", "no-extension", "broken-png",
        "png-named-jpg", "too-big", "empty"])
def test_other_files_are_refused_and_nothing_is_kept(client, login, person, first_aid, data,
                                                     filename, message):
    login(person)
    response = upload(client, first_aid.id, data, filename)
    assert response.status_code == 400
    assert message in response.text
    assert records_of(person) == [] and _files_of(person) == []


def test_an_upload_beyond_the_servers_limit_is_413(app_factory, login):
    app = app_factory(MAX_CONTENT_LENGTH=64 * 1024)
    with app.app_context():
        person = member(OrganisationFactory())
        made = competence("HMS", months=12)
        client = app.test_client()
        login(person, test_client=client)
        response = upload(client, made.id, PDF + b"0" * 100 * 1024)
        assert response.status_code == 413
        assert "Filen er for stor" in response.text
        assert records_of(person) == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("achieved_on", (date.today() + timedelta(days=40)).isoformat(),
     "kan ikke være fram i tid"),
    ("achieved_on", "", "Dato oppnådd: "),
    ("title", "", "Navn på beviset eller kurset: "),
    ("competence", "", "Kompetanse: "),
    ("competence", "abc", "Kompetanse: "),
])
def test_bad_fields_are_refused_with_a_message(client, login, person, first_aid, field,
                                              value, message):
    login(person)
    response = upload(client, first_aid.id, **{field: value})
    assert response.status_code == 400
    assert message in response.text
    assert records_of(person) == [] and _files_of(person) == []


def test_only_the_regions_and_the_persons_organisations_competences_can_be_chosen(
        client, login, kongsberg, notodden, person):
    own = competence("Kongsbergs egen", months=12, organisation=kongsberg)
    others = competence("Notoddens egen", months=12, organisation=notodden)
    login(person)
    page = client.get("/me/competence").text
    assert "Kongsbergs egen" in page and "Notoddens egen" not in page
    assert upload(client, others.id).status_code == 400
    assert upload(client, own.id).status_code == 302
    assert [r.competence_id for r in records_of(person)] == [own.id]


def test_a_person_in_two_organisations_chooses_from_the_deciding_ones_only(
        client, login, kongsberg, notodden, person, first_aid):
    """Kongsberg decides Ingrid's certificates, so Notodden's own competences are not
    offered, and the service refuses them even when the form is bypassed."""
    MembershipFactory(organisation=notodden, user=person)
    own = competence("Kongsbergs egen", months=12, organisation=kongsberg)
    others = competence("Notoddens egen", months=12, organisation=notodden)
    db.session.refresh(person)
    assert [c.id for c in external.competence_choices(db.session, person)] == [
        first_aid.id, own.id]
    with force_locale("en"), pytest.raises(DomainError, match=(
            "from the list: Kongsberg kommune approves certificates for the region's")):
        external.add_external(db.session, person, _upload_of(others))
    db.session.rollback()
    login(person)
    page = client.get("/me/competence").text
    assert "Kongsbergs egen" in page and "Notoddens egen" not in page
    assert upload(client, others.id).status_code == 400
    assert records_of(person) == [] and _files_of(person) == []


def _upload_of(chosen, data: bytes = PDF) -> external.Upload:
    return external.Upload(competence_id=chosen.id, title="Bevis", issuer="Røde Kors",
                           achieved_on=date(2026, 3, 1), filename="bevis.pdf", data=data)


def test_an_upload_retried_after_a_lost_lock_race_keeps_one_file(
        client, login, monkeypatch, person, first_aid):
    """run_service runs the upload again when the commit loses a lock race: the second
    attempt has the same bytes, and the first attempt's file goes with its rollback."""
    commit, lost = Session.commit, []

    def lose_the_first_race(session):
        adding = any(isinstance(row, CompetenceRecord) for row in session.new) or any(
            isinstance(row, CompetenceRecord) for row in session.identity_map.values())
        if adding and not lost:
            lost.append(True)
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))
        return commit(session)

    login(person)
    monkeypatch.setattr(Session, "commit", lose_the_first_race)
    monkeypatch.setattr(viewhelpers.time, "sleep", lambda _seconds: None)
    assert upload(client, first_aid.id).status_code == 302
    assert lost
    [record] = records_of(person)
    [stored] = _files_of(person)
    assert stored.name == record.stored_name and stored.read_bytes() == PDF


def test_a_file_written_by_an_upload_that_is_rolled_back_is_removed(person, first_aid):
    external.add_external(db.session, person, _upload_of(first_aid))
    assert len(_files_of(person)) == 1
    db.session.rollback()
    assert records_of(person) == [] and _files_of(person) == []
    external.add_external(db.session, person, _upload_of(first_aid))
    db.session.commit()
    assert len(records_of(person)) == len(_files_of(person)) == 1


def test_someone_without_an_organisation_cannot_upload(client, login, first_aid):
    loner = UserFactory()
    login(loner)
    page = client.get("/me/competence").text
    assert "Du kan legge dem til når du er medlem av en" in page
    response = upload(client, first_aid.id)
    assert response.status_code == 400
    assert records_of(loner) == [] and _files_of(loner) == []


# Deciding -------------------------------------------------------------------------------

def test_an_admin_approves_and_the_person_is_told_and_it_counts(
        client, login, kongsberg, person, first_aid, pending):
    admin = member(kongsberg, Role.ADMIN, name="Kari Nordmann")
    login(admin)
    page = client.get("/o/kongsberg/admin/competence/approvals")
    assert page.status_code == 200
    assert "Ingrid Lie" in page.text and "Førstehjelp grunnkurs" in page.text
    assert decide(client, kongsberg, pending, note="Fint").status_code == 302
    db.session.expire_all()
    record = db.session.get(CompetenceRecord, pending.id)
    assert (record.status, record.decided_by_id, record.decision_note) == (
        RecordStatus.APPROVED, admin.id, "Fint")
    assert records.holdings(db.session, [person.id]) == {
        (person.id, first_aid.id): date(2028, 3, 1)}
    [mail] = outbox(person.email)
    assert mail.subject == "Kompetansebevis godkjent: Førstehjelp"
    assert "«Førstehjelp grunnkurs»" in mail.body_text and "Merknad fra Kari Nordmann: Fint" \
        in mail.body_text
    assert link_in(mail) == "/me/competence"
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "competence_record.approved"))
    assert event.organisation_id == kongsberg.id
    with force_locale("nb"):
        sentence = str(describe(event, object_names(db.session, [event])).sentence)
    assert "Kari Nordmann godkjente kompetansebeviset til Ingrid Lie for «" in sentence
    assert "Ingen kompetansebevis venter på godkjenning" in client.get(
        "/o/kongsberg/admin/competence/approvals").text


def test_the_leader_of_the_persons_unit_rejects_with_a_note(
        client, login, kongsberg, person, first_aid, pending):
    leader = member(kongsberg, name="Lena Leder")
    make_unit(kongsberg, "Hjemmetjenesten", people=[person], leaders=[leader])
    login(leader)
    assert 'href="/o/kongsberg/admin/competence/approvals"' in client.get("/me/competence").text
    assert "Ingrid Lie" in client.get("/o/kongsberg/admin/competence/approvals").text
    assert decide(client, kongsberg, pending, "reject", "Uleselig kopi").status_code == 302
    db.session.expire_all()
    assert db.session.get(CompetenceRecord, pending.id).status == RecordStatus.REJECTED
    assert records.holdings(db.session, [person.id]) == {}
    [mail] = outbox(person.email)
    assert mail.subject == "Kompetansebevis ikke godkjent: Førstehjelp"
    assert "Merknad fra Lena Leder: Uleselig kopi" in mail.body_text
    assert db.session.scalar(select(AuditEvent.action)) == "competence_record.rejected"


def test_the_leader_of_another_unit_is_refused(client, login, kongsberg, person, pending):
    other_leader = member(kongsberg)
    make_unit(kongsberg, "Hjemmetjenesten", people=[person])
    make_unit(kongsberg, "Skole", leaders=[other_leader])
    login(other_leader)
    page = client.get("/o/kongsberg/admin/competence/approvals")
    assert page.status_code == 200 and "Ingrid Lie" not in page.text
    assert decide(client, kongsberg, pending).status_code == 403
    assert client.get(f"/me/competence/external/{pending.id}/file").status_code == 403
    db.session.expire_all()
    assert db.session.get(CompetenceRecord, pending.id).status == RecordStatus.PENDING


def test_an_employee_without_leadership_may_not_see_approvals(client, login, kongsberg,
                                                              pending):
    login(member(kongsberg))
    assert client.get("/o/kongsberg/admin/competence/approvals").status_code == 403
    assert decide(client, kongsberg, pending).status_code == 403
    assert "/admin/competence/approvals" not in client.get("/me/competence").text


def test_another_organisations_admin_is_told_it_does_not_exist(
        client, login, kongsberg, notodden, pending):
    login(member(notodden, Role.ADMIN))
    assert client.get("/o/kongsberg/admin/competence/approvals").status_code == 404
    assert decide(client, kongsberg, pending).status_code == 404
    # Through their own organisation's address the record is not found either.
    assert decide(client, notodden, pending).status_code == 404
    assert client.get(f"/me/competence/external/{pending.id}/file").status_code == 404
    db.session.expire_all()
    assert db.session.get(CompetenceRecord, pending.id).status == RecordStatus.PENDING


def test_nobody_decides_their_own_and_a_decision_is_made_once(
        client, login, kongsberg, first_aid, pending):
    admin = member(kongsberg, Role.ADMIN)
    login(admin)
    assert upload(client, first_aid.id, title="Mitt eget bevis").status_code == 302
    own = records_of(admin)[0]
    page = client.get("/o/kongsberg/admin/competence/approvals").text
    assert "Førstehjelp grunnkurs" in page and "Mitt eget bevis" not in page
    response = decide(client, kongsberg, own)
    assert response.status_code == 302
    assert "Du kan ikke godkjenne eller avvise ditt eget" in client.get(response.location).text
    assert decide(client, kongsberg, pending).status_code == 302
    response = decide(client, kongsberg, pending, "reject")
    assert "allerede godkjent eller avvist" in client.get(response.location).text
    db.session.expire_all()
    assert db.session.get(CompetenceRecord, own.id).status == RecordStatus.PENDING
    assert db.session.get(CompetenceRecord, pending.id).status == RecordStatus.APPROVED
    assert len(outbox()) == 1


def test_a_decision_must_say_approve_or_reject(client, login, kongsberg, pending):
    login(member(kongsberg, Role.ADMIN))
    response = decide(client, kongsberg, pending, "maybe")
    assert response.status_code == 400 and "godkjenne eller avvise beviset" in response.text
    assert decide(client, kongsberg, pending, note="x" * 301).status_code == 302
    db.session.expire_all()
    assert db.session.get(CompetenceRecord, pending.id).status == RecordStatus.PENDING


def test_a_course_record_cannot_be_decided(client, login, kongsberg, person, first_aid):
    record = CompetenceRecord(user_id=person.id, competence_id=first_aid.id,
                              source=RecordSource.COURSE, status=RecordStatus.PENDING,
                              valid_from=date(2026, 1, 1), organisation_id=kongsberg.id)
    db.session.add(record)
    db.session.commit()
    login(member(kongsberg, Role.ADMIN))
    assert decide(client, kongsberg, record).status_code == 404


# The file -------------------------------------------------------------------------------

def test_the_file_is_served_to_the_owner_and_the_deciders_only(
        client, login, kongsberg, notodden, person, pending):
    leader = member(kongsberg)
    make_unit(kongsberg, "Hjemmetjenesten", people=[person], leaders=[leader])
    for viewer in (person, member(kongsberg, Role.ADMIN), leader):
        login(viewer)
        response = fetch_file(client, pending)
        assert response.status_code == 200, viewer
        assert response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        client.post("/logout")
    login(member(kongsberg, Role.ORGANISER))
    assert fetch_file(client, pending).status_code == 403
    client.post("/logout")
    login(member(notodden, Role.ADMIN))
    assert fetch_file(client, pending).status_code == 404
    client.post("/logout")
    assert fetch_file(client, pending).status_code == 302  # to the login page


def test_the_person_deletes_their_own_record_and_file_at_any_time(
        client, login, kongsberg, person, pending):
    delete = f"/me/competence/external/{pending.id}/delete"
    login(member(kongsberg, Role.ADMIN))
    decide(client, kongsberg, pending)
    client.post("/logout")
    login(member(kongsberg))
    assert client.post(delete).status_code == 404
    client.post("/logout")
    assert len(_files_of(person)) == 1
    login(person)
    response = client.post(delete)
    assert response.status_code == 302
    assert "Kompetansebeviset er slettet" in client.get(response.location).text
    assert records_of(person) == [] and _files_of(person) == []
    assert records.holdings(db.session, [person.id]) == {}
    assert client.post(delete).status_code == 404


def test_the_approvals_page_costs_the_same_however_many_wait(client, login, kongsberg,
                                                            first_aid):
    leader = member(kongsberg)
    people = [member(kongsberg) for _ in range(20)]
    make_unit(kongsberg, "Hjemmetjenesten", people=people, leaders=[leader])
    login(leader)

    def wait(people_waiting) -> int:
        for waiting in people_waiting:
            db.session.add(CompetenceRecord(
                user_id=waiting.id, competence_id=first_aid.id, source=RecordSource.EXTERNAL,
                status=RecordStatus.PENDING, valid_from=date(2026, 1, 1),
                organisation_id=kongsberg.id, title="Bevis", stored_name="x"))
        db.session.commit()
        with counted_queries() as statements:
            page = client.get("/o/kongsberg/admin/competence/approvals")
        assert page.text.count('name="decision" value="approve"') == len(
            db.session.scalars(select(CompetenceRecord)).all())
        return len(statements)

    assert wait(people[:2]) == wait(people[2:]) <= 8
