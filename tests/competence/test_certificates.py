"""Course certificates (kursbevis): issued and e-mailed as a PDF when attendance is marked,
downloaded from "My registrations" (or by the host's organisers), and confirmed on the
public verification page, which shows nothing but the name, course, host and date."""

from __future__ import annotations

import io
from datetime import date, time, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.competence import pdf
from frikomport.competence.models import Certificate, Competence, CourseCompetence
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from frikomport.timeutil import local_to_utc, to_local
from tests.factories import CourseFactory, member, register
from tests.helpers import outbox
from tests.mailserver import outbox_cli, use_smtp
from tests.test_query_counts import counted_queries

PARTICIPANTS = "/o/kongsberg/admin/courses/{}/participants"


def _day(days_from_today: int) -> date:
    return to_local(utcnow()).date() + timedelta(days=days_from_today)


def _course(organisation, **fields):
    """A course held the last two days: 3 and 3.5 hours (6.5 hours), granting first aid
    and fire safety."""
    sessions = [(local_to_utc(_day(-2), time(9)), local_to_utc(_day(-2), time(12))),
                (local_to_utc(_day(-1), time(9)), local_to_utc(_day(-1), time(12, 30)))]
    fields = {"title": "Førstehjelp – grunnkurs", "instructor": "Kari Lege", **fields}
    course = CourseFactory(organisation=organisation, sessions=sessions, **fields)
    for name in ("Førstehjelp", "Brannvern"):
        competence = db.session.scalar(select(Competence).where(Competence.name == name))
        if competence is None:
            competence = Competence(name=name, validity_months=24)
            db.session.add(competence)
            db.session.flush()
        db.session.add(CourseCompetence(organisation_id=organisation.id, course_id=course.id,
                                        competence_id=competence.id))
    db.session.commit()
    return course


def _guest(course, name="Gina Gjest", email="gina@example.org") -> Registration:
    registration = Registration(
        organisation_id=course.organisation_id, course_id=course.id, name=name, email=email,
        employer_name="Privat", state=S.CONFIRMED, email_confirmed_at=utcnow())
    course.confirmed_count += 1
    db.session.add(registration)
    db.session.commit()
    return registration


def _mark(client, course, registration, action="attended"):
    response = client.post(f"{PARTICIPANTS.format(course.id)}/{registration.id}/{action}")
    assert response.status_code == 302, response.text


def _certificate(registration) -> Certificate:
    db.session.expire_all()
    return db.session.scalars(select(Certificate).where(
        Certificate.registration_id == registration.id)).one()


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def organiser(kongsberg, login):
    person = member(kongsberg, Role.ORGANISER)
    login(person)
    return person


# Issuing and e-mailing ------------------------------------------------------------------

def test_marking_attended_sends_the_certificate_as_a_pdf(app, client, kongsberg, organiser,
                                                         smtp_receiver):
    use_smtp(app, smtp_receiver)
    course = _course(kongsberg)
    nora = member(kongsberg, name="Nora Nilsen", email="nora@kongsberg.example.org")
    registration = register(course, nora)
    _mark(client, course, registration)
    certificate = _certificate(registration)
    assert (certificate.user_id, certificate.teaching_minutes) == (nora.id, 390)
    [queued] = db.session.scalars(select(OutboxMessage)).all()
    assert (queued.renderer, queued.to_address) == ("certificate", nora.email)

    assert "sent=1 retried=0 failed=0" in outbox_cli(app, "send")
    [mail] = smtp_receiver.received
    assert mail["Subject"] == "Kursbevis: Førstehjelp – grunnkurs"
    body = mail.get_body(("plain",)).get_content()
    assert "Hei Nora Nilsen" in body and certificate.code in body
    assert f"https://kurs.example.org/verify/{certificate.code}" in body
    assert "https://kurs.example.org/me/registrations" in body
    [attachment] = [part for part in mail.iter_attachments()
                    if part.get_content_type() == "application/pdf"]
    assert attachment.get_filename() == "kursbevis-forstehjelp-grunnkurs.pdf"
    text = _text(attachment.get_payload(decode=True))
    for expected in ("Kursbevis", "Nora Nilsen", "Førstehjelp – grunnkurs", "6,5 timer",
                     "Kongsberg kommune", "Kari Lege", "Brannvern", "Førstehjelp",
                     certificate.code, f"/verify/{certificate.code}"):
        assert expected in text, expected


def test_bulk_marking_issues_and_queues_one_certificate_each(app, client, kongsberg,
                                                              organiser):
    course = _course(kongsberg)
    people = [register(course, member(kongsberg)) for _ in range(3)]
    guest = _guest(course)
    client.post(f"{PARTICIPANTS.format(course.id)}/all-attended")
    db.session.expire_all()
    certificates = db.session.scalars(select(Certificate)).all()
    assert sorted(c.registration_id for c in certificates) == sorted(
        r.id for r in [*people, guest])
    written = outbox()
    assert sorted(m.to_address for m in written) == sorted(r.email for r in [*people, guest])
    for message in written:
        [attachment] = message.attachments
        assert attachment.content_type == "application/pdf"
        assert attachment.data.startswith(b"%PDF")


def test_a_guest_gets_the_certificate_with_a_link_to_their_data(client, kongsberg,
                                                                organiser):
    course = _course(kongsberg)
    guest = _guest(course)
    _mark(client, course, guest)
    [message] = outbox(guest.email)
    assert "/registrations/data/" in message.body_text
    assert "Ta vare på denne e-posten" in message.body_text
    assert "/me/registrations" not in message.body_text
    assert "Gina Gjest" in _text(message.attachments[0].data)


def test_names_in_any_alphabet_are_written_and_the_metadata_is_set(client, kongsberg,
                                                                   organiser):
    course = _course(kongsberg)
    person = member(kongsberg, name="Åse Ŋuvvon-Łukasz")
    registration = register(course, person)
    _mark(client, course, registration)
    [message] = outbox(person.email)
    reader = PdfReader(io.BytesIO(message.attachments[0].data))
    assert "Åse Ŋuvvon-Łukasz" in _text(message.attachments[0].data)
    assert reader.metadata.title == "Kursbevis – Førstehjelp – grunnkurs"
    assert reader.trailer["/Root"]["/Lang"] == "nb"
    assert len(reader.pages) == 1


def test_the_pdf_is_in_the_course_language_and_the_e_mail_in_the_recipients(
        client, kongsberg, organiser):
    course = _course(kongsberg, content_language="en")
    person = member(kongsberg, locale="nn")
    _mark(client, course, register(course, person))
    [message] = outbox(person.email)
    assert "Mine påmeldingar" in message.body_text
    text = _text(message.attachments[0].data)
    assert "Course certificate" in text and "6.5 hours" in text


def test_hours_are_written_to_the_quarter(app):
    with app.test_request_context():
        assert [pdf.hours(minutes) for minutes in (60, 360, 390, 200)] == [
            "1 time", "6 timer", "6,5 timer", "3,25 timer"]


def test_the_file_name_is_plain_ascii():
    def name(title):
        return pdf.filename(Certificate(course_title=title))

    assert name("Førstehjelp – grunnkurs!") == "kursbevis-forstehjelp-grunnkurs.pdf"
    assert name("Ærlig talt: Åpen dør") == "kursbevis-aerlig-talt-apen-dor.pdf"
    assert name('"; rm -rf') == "kursbevis-rm-rf.pdf"
    assert name("★★★") == "kursbevis.pdf"


# Taking attendance back ---------------------------------------------------------------

def test_no_show_revokes_the_certificate_and_drops_its_e_mail(app, client, kongsberg,
                                                              organiser):
    course = _course(kongsberg)
    person = member(kongsberg)
    registration = register(course, person)
    _mark(client, course, registration)
    code = _certificate(registration).code
    _mark(client, course, registration, "no-show")

    assert outbox(person.email) == []  # the sender drops it: nothing to certify
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and "Kursbeviset er trukket tilbake" in page.text
    assert person.name not in page.text and course.title not in page.text

    _mark(client, course, registration)  # attended after all: a new one, sent once
    [message] = outbox(person.email)
    new = _certificate(registration)
    assert new.code != code and new.code in message.body_text


# The public verification page ---------------------------------------------------------

def test_the_verification_page_shows_name_course_host_and_date_only(client, kongsberg,
                                                                   organiser):
    course = _course(kongsberg)
    person = member(kongsberg, name="Nora Nilsen", email="nora@kongsberg.example.org")
    registration = register(course, person)
    _mark(client, course, registration)
    certificate = _certificate(registration)
    client.post("/logout")

    page = client.get(f"/verify/{certificate.code}")
    assert page.status_code == 200
    assert "Kursbeviset er ekte" in page.text
    for shown in ("Nora Nilsen", "Førstehjelp – grunnkurs", "Kongsberg kommune",
                  pdf.days(certificate.first_day, certificate.last_day)):
        assert shown in page.text, shown
    for hidden in (person.email, "Brannvern", "6,5", "timer", "Kari Lege",
                   f"/me/certificates/{certificate.id}"):
        assert hidden not in page.text, hidden
    assert '<meta name="robots" content="noindex">' in page.text
    assert page.headers["X-Robots-Tag"] == "noindex"
    assert "no-store" in page.headers["Cache-Control"]
    # Typed from paper: any case, spaces for dashes.
    loose = certificate.code.lower().replace("-", " ")
    assert client.get(f"/verify/{loose}").status_code == 200


@pytest.mark.parametrize("code", ["ABCD-EFGH-JKMN", "abcd", "0OIL-0OIL-0OIL", "x" * 500,
                                  "ABCD-EFGH-JKMN-PQRS"])
def test_an_unknown_or_malformed_code_is_not_found(client, kongsberg, code):
    page = client.get(f"/verify/{code}")
    assert page.status_code == 404
    assert "Ingen kursbevis har denne koden" in page.text


def test_the_form_takes_a_code_as_typed(client, kongsberg, organiser):
    course = _course(kongsberg)
    registration = register(course, member(kongsberg))
    _mark(client, course, registration)
    code = _certificate(registration).code

    assert 'name="code"' in client.get("/verify").text
    typed = client.get("/verify", query_string={"code": f"  {code.lower()} "})
    assert typed.status_code == 302 and typed.headers["Location"] == f"/verify/{code}"
    wrong = client.get("/verify", query_string={"code": "feil"})
    assert wrong.status_code == 400
    assert "tolv bokstaver og sifre" in wrong.text and 'aria-invalid="true"' in wrong.text
    assert client.get("/verify", query_string={"code": ""}).status_code == 400


def test_verification_is_rate_limited(app_factory, app):
    limited = app_factory(RATELIMIT_ENABLED=True)
    with limited.app_context():
        client = limited.test_client()
        codes = [client.get("/verify/ABCD-EFGH-JKMN",
                            environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code
                 for _ in range(31)]
        assert codes[:30] == [404] * 30 and codes[30] == 429
        elsewhere = client.get("/verify", environ_base={"REMOTE_ADDR": "198.51.100.4"})
        assert elsewhere.status_code == 200
        db.session.remove()


# Downloading ----------------------------------------------------------------------------

@pytest.fixture
def issued(kongsberg, organiser, client):
    """A certificate of Nora's (a Kongsberg employee), marked by a Kongsberg organiser."""
    course = _course(kongsberg)
    nora = member(kongsberg, name="Nora Nilsen")
    registration = register(course, nora)
    _mark(client, course, registration)
    client.post("/logout")
    return _certificate(registration), nora


def test_the_owner_downloads_the_pdf(client, login, issued):
    certificate, nora = issued
    login(nora)
    response = client.get(f"/me/certificates/{certificate.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="kursbevis-forstehjelp-grunnkurs.pdf"')
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Nora Nilsen" in _text(response.data)
    assert db.session.scalar(select(AuditEvent)) is None  # one's own: nothing to audit


def test_someone_else_is_told_it_does_not_exist(client, login, issued, kongsberg):
    certificate, _nora = issued
    url = f"/me/certificates/{certificate.id}.pdf"
    assert client.get(url).status_code == 302  # to the login page
    login(member(kongsberg))  # a colleague
    assert client.get(url).status_code == 404
    assert client.get(f"/me/certificates/{certificate.id + 999}.pdf").status_code == 404


def test_the_hosts_organiser_downloads_it_and_is_audited(client, login, issued, kongsberg):
    certificate, _nora = issued
    host = member(kongsberg, Role.ORGANISER, name="Ola Organiser")
    login(host)
    response = client.get(f"/me/certificates/{certificate.id}.pdf")
    assert response.status_code == 200 and "Nora Nilsen" in _text(response.data)
    event = db.session.scalar(select(AuditEvent))
    assert (event.action, event.actor_id, event.organisation_id) == (
        "certificate.downloaded", host.id, kongsberg.id)
    assert event.details == {"participant": "Nora Nilsen",
                             "course": "Førstehjelp – grunnkurs"}


def test_another_tenants_organiser_gets_404(client, login, issued, notodden):
    certificate, _nora = issued
    login(member(notodden, Role.ADMIN))
    assert client.get(f"/me/certificates/{certificate.id}.pdf").status_code == 404


def test_a_revoked_certificate_is_not_downloaded(client, login, issued, kongsberg):
    certificate, nora = issued
    registration = db.session.get(Registration, certificate.registration_id)
    login(member(kongsberg, Role.ORGANISER))
    _mark(client, registration.course, registration, "no-show")
    client.post("/logout")
    login(nora)
    assert client.get(f"/me/certificates/{certificate.id}.pdf").status_code == 404


# "My registrations" ---------------------------------------------------------------------

def test_my_registrations_links_each_certificate_with_one_query(client, login, kongsberg,
                                                                organiser):
    nora = member(kongsberg)
    attended = []
    for _ in range(3):
        course = _course(kongsberg)
        registration = register(course, nora)
        _mark(client, course, registration)
        attended.append(_certificate(registration))
    register(CourseFactory(organisation=kongsberg), nora)  # upcoming: no certificate yet
    client.post("/logout")
    login(nora)
    with counted_queries() as statements:
        page = client.get("/me/registrations").text
    assert page.count("Last ned kursbevis") == 3
    for certificate in attended:
        assert f'href="/me/certificates/{certificate.id}.pdf"' in page
    assert len([s for s in statements if "FROM certificate" in s]) == 1


def test_the_participant_list_links_the_certificates_of_those_who_attended(client, kongsberg,
                                                                          organiser):
    course = _course(kongsberg)
    guest = _guest(course)
    present = [register(course, member(kongsberg)) for _ in range(2)]
    absent = register(course, member(kongsberg))
    for registration in (guest, *present):
        _mark(client, course, registration)
    _mark(client, course, absent, "no-show")
    with counted_queries() as statements:
        page = client.get(PARTICIPANTS.format(course.id)).text
    assert page.count("Last ned kursbevis") == 3
    assert f'href="/me/certificates/{_certificate(guest).id}.pdf"' in page
    assert len([s for s in statements if "FROM certificate" in s]) == 1
    # The guest lost the e-mail: the organiser downloads it for them.
    response = client.get(f"/me/certificates/{_certificate(guest).id}.pdf")
    assert response.status_code == 200 and "Gina Gjest" in _text(response.data)
