"""Competence data and privacy: deleting an account removes the person's records, the
files of their uploaded certificates (only once committed), certificates, reminders,
invitations and leaderships; a guest's certificate goes with their registration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from frikomport.accounts.models import User
from frikomport.competence import certificates
from frikomport.competence.external import user_folder
from frikomport.competence.models import (
    Certificate,
    Competence,
    CompetenceRecord,
    CourseInvitation,
    RecordSource,
    RecordStatus,
    ReminderSent,
)
from frikomport.courses.models import CourseState
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.privacy import retention
from frikomport.privacy.deletion import delete_guest_registration, delete_person
from frikomport.privacy.files import remove_after_commit
from frikomport.privacy.retention import months_before, purge
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from frikomport.timeutil import to_local
from frikomport.units.models import Unit, UnitLeader
from tests.factories import DEFAULT_PASSWORD, CourseFactory, member, register

NAME, EMAIL = "Dorthe Dataslett", "dorthe.dataslett@example.org"


def _certificate(registration: Registration, user_id=None) -> Certificate:
    course = registration.course
    day = to_local(course.ends_at).date()
    certificate = Certificate(
        organisation_id=course.organisation_id, registration_id=registration.id,
        user_id=user_id, code=certificates.new_code(), name=registration.name,
        course_title=course.title, host_name=course.organisation.name, first_day=day,
        last_day=day)
    db.session.add(certificate)
    db.session.commit()
    return certificate


def _ended(organisation, days_ago: int):
    end = utcnow() - timedelta(days=days_ago)
    return CourseFactory(organisation=organisation, state=CourseState.FINISHED,
                         allow_guests=True, sessions=[(end - timedelta(hours=3), end)])


def _upload(person, competence, organisation, **fields) -> CompetenceRecord:
    """An external certificate with its file, stored where uploads are."""
    folder = user_folder(person.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a1b2c3").write_bytes(b"%PDF-1.4 kursbevis")
    record = CompetenceRecord(
        user_id=person.id, competence_id=competence.id, source=RecordSource.EXTERNAL,
        status=RecordStatus.PENDING, valid_from=date(2026, 1, 5), title="Forflytning",
        issuer="Vestre Viken", organisation_id=organisation.id, filename="bevis.pdf",
        stored_name="a1b2c3", content_type="application/pdf", **fields)
    db.session.add(record)
    db.session.commit()
    return record


@pytest.fixture
def world(kongsberg, notodden):
    """A person with competence data of every kind, and what others hold that mentions
    them (a record they approved, an invitation they sent)."""
    person = member(kongsberg, name=NAME, email=EMAIL)
    admin = member(kongsberg, Role.ADMIN)
    colleague = member(kongsberg, name="Kari Kollega")
    competence = Competence(name="Forflytning", validity_months=36)
    unit = Unit(organisation_id=kongsberg.id, name="Sykehjemmet")
    db.session.add_all([competence, unit])
    db.session.commit()
    past, earlier = (_ended(notodden, days) for days in (30, 400))
    own = _certificate(register(past, person, S.ATTENDED), user_id=person.id)
    # Before the account: registered as a guest with the same address.
    as_guest = Registration(organisation_id=notodden.id, course=earlier, name=NAME,
                            email=EMAIL, state=S.ATTENDED, email_confirmed_at=utcnow(),
                            employer_name="Kongsberg kommune")
    db.session.add(as_guest)
    db.session.commit()
    guest_certificate = _certificate(as_guest)
    _upload(person, competence, kongsberg)
    decided = _upload(colleague, competence, kongsberg, decided_by_id=person.id)
    db.session.add_all([
        ReminderSent(user_id=person.id, competence_id=competence.id,
                     valid_until=date(2027, 1, 5), days=60),
        CourseInvitation(organisation_id=notodden.id, course_id=past.id, user_id=person.id),
        CourseInvitation(organisation_id=notodden.id, course_id=past.id,
                         user_id=colleague.id, sent_by_id=person.id),
        UnitLeader(organisation_id=kongsberg.id, unit_id=unit.id, user_id=person.id)])
    db.session.commit()
    return person, admin, colleague, decided, (own.code, guest_certificate.code)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_deleting_the_account_deletes_its_competence_and_certificates(client, login, world):
    person, _admin, colleague, decided, codes = world
    person_id, folder = person.id, user_folder(person.id)
    assert (folder / "a1b2c3").exists()
    login(person)
    assert client.post("/me/delete", data={"password": DEFAULT_PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person_id) is None
    for model in (CompetenceRecord, ReminderSent, UnitLeader):
        assert _count(model, model.user_id == person_id) == 0, model
    assert _count(CourseInvitation, CourseInvitation.user_id == person_id) == 0
    assert _count(Certificate) == 0  # their own and the one of their guest registration
    assert all(certificates.by_code(db.session, code) is None for code in codes)
    assert not folder.exists()
    # What they did for others stays, without them.
    assert (decided.status, decided.decided_by_id) == (RecordStatus.PENDING, None)
    assert (user_folder(colleague.id) / "a1b2c3").exists()
    assert db.session.scalar(select(CourseInvitation.sent_by_id).where(
        CourseInvitation.user_id == colleague.id)) is None


def test_the_verification_page_then_finds_nothing(client, world):
    person, *_rest, (code, _guest_code) = world
    assert NAME in client.get(f"/verify/{code}").text
    delete_person(db.session, person, person)
    db.session.commit()
    page = client.get(f"/verify/{code}")
    assert NAME not in page.text


def test_files_are_removed_only_when_the_deletion_is_committed(app, world):
    person, *_ = world
    folder = user_folder(person.id)
    with db.session.begin_nested() as savepoint:
        delete_person(db.session, person, person)
        savepoint.rollback()
    db.session.commit()
    assert folder.exists()  # rolled back: the rows are back, and so is nothing lost
    assert _count(CompetenceRecord, CompetenceRecord.user_id == person.id) == 1

    delete_person(db.session, person, person)
    db.session.rollback()
    assert folder.exists()

    with db.session.begin_nested():  # a savepoint released is not yet a commit
        delete_person(db.session, person, person)
    assert folder.exists()
    db.session.commit()
    assert not folder.exists()


def test_a_dry_run_keeps_the_files_of_disabled_accounts_the_real_run_removes(app, world):
    person, *_ = world
    person.is_enabled, person.disabled_at = False, months_before(utcnow(), 13)
    db.session.commit()
    folder = user_folder(person.id)
    assert purge(db.session, dry_run=True)["disabled accounts deleted"] == 1
    db.session.commit()
    assert folder.exists() and db.session.get(User, person.id) is not None
    assert purge(db.session)["disabled accounts deleted"] == 1
    db.session.commit()
    assert not folder.exists()


def test_remove_after_commit_forgets_a_rolled_back_savepoint_only(app, tmp_path):
    kept, removed = tmp_path / "kept", tmp_path / "removed"
    kept.write_bytes(b"1")
    removed.write_bytes(b"2")
    remove_after_commit(db.session, [removed])
    with db.session.begin_nested() as savepoint:
        remove_after_commit(db.session, [kept])
        savepoint.rollback()
    db.session.commit()
    assert kept.exists() and not removed.exists()


def test_a_guest_deleting_their_registration_deletes_its_certificate(client, notodden):
    course = _ended(notodden, 9)
    guest = Registration(organisation_id=notodden.id, course=course, name="Gina Gjest",
                         email="gina@example.net", state=S.ATTENDED,
                         email_confirmed_at=utcnow())
    db.session.add(guest)
    db.session.commit()
    _certificate(guest)
    delete_guest_registration(db.session, guest.id)
    db.session.commit()
    assert _count(Certificate) == 0


def test_guest_certificates_go_when_the_registration_is_anonymised(app, notodden):
    now = utcnow()
    cutoff = months_before(now, 60)

    def ended(end):
        return CourseFactory(organisation=notodden, state=CourseState.FINISHED,
                             sessions=[(end - timedelta(hours=3), end)])

    def guest(course, name):
        registration = Registration(organisation_id=notodden.id, course=course, name=name,
                                    email=f"{name.lower()}@example.net", state=S.ATTENDED,
                                    email_confirmed_at=now)
        db.session.add(registration)
        db.session.commit()
        return registration

    old, recent = ended(cutoff - timedelta(minutes=1)), ended(cutoff + timedelta(minutes=1))
    _certificate(guest(old, "Gammel"))  # goes with its registration, to the minute
    kept = _certificate(guest(recent, "Nylig"))
    person = member(notodden)
    members = _certificate(register(old, person, S.ATTENDED), user_id=person.id)
    revoked_long_ago = _certificate(guest(ended(cutoff - timedelta(days=40)), "Trukket"))
    revoked_long_ago.registration_id = None
    db.session.commit()
    kept_ids = {kept.id, members.id}

    assert retention.guest_certificates(db.session, now) == 2
    assert retention.guest_certificates(db.session, now) == 0
    db.session.commit()
    assert set(db.session.scalars(select(Certificate.id))) == kept_ids


def test_the_privacy_notice_says_how_long_competence_is_kept(client):
    client.post("/language", data={"language": "en"})
    page = client.get("/privacy").text
    assert "Your competence records and course certificates are kept as long as" in page
    assert "course certificate of a guest (someone without an account) is deleted 5 years" \
        in page
    assert "leader of your unit, see your competence" in page
