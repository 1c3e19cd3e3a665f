"""Privacy by design: the privacy notice, the comment field and participant downloads.

Texts are checked in English (msgids), so that the tests do not depend on translations.
"""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.courses import services as course_services
from frikomport.courses.models import Course
from frikomport.extensions import db
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, OrganisationFactory, in_days, member
from tests.factories import register as add_registration

NOTICE_LINK = 'href="/privacy"'
HEALTH_HINT = "Do not write health information"
NOT_FILLED_IN = "Not filled in yet by the operator of this portal."


def in_english(client):
    client.post("/language", data={"language": "en"})


def english_member(organisation, role=Role.EMPLOYEE, **fields):
    return member(organisation, role, locale="en", **fields)


# The notice ------------------------------------------------------------------------------

def test_notice_names_the_configured_operator_and_retention(app_factory):
    app = app_factory(
        PRIVACY_CONTROLLER_NAME="Kongsbergregionen IKT", PRIVACY_CONTROLLER_ADDRESS=(
            "Postboks 115, 3602 Kongsberg"), PRIVACY_CONTACT_EMAIL="personvern@example.org",
        PRIVACY_DPO_EMAIL="ombud@example.org", GUEST_CONFIRM_HOURS=36,
        RETENTION_COMMENT_MONTHS=7, RETENTION_PARTICIPANT_YEARS=4, RETENTION_OUTBOX_DAYS=21,
        RETENTION_AUDIT_MONTHS=9)
    client = app.test_client()
    in_english(client)
    page = client.get("/privacy").text
    for text in ("Kongsbergregionen IKT", "Postboks 115, 3602 Kongsberg",
                 'href="mailto:personvern@example.org"', 'href="mailto:ombud@example.org"',
                 "after 36 hours", "7 months after the course", "kept 4 years",
                 "21 days after", "after 9 months", "article 6(1)(e)", "article 6(1)(b)",
                 'href="https://www.datatilsynet.no/"', "controller (behandlingsansvarlig)"):
        assert text in page, text
    assert NOT_FILLED_IN not in page



def test_notice_says_what_single_sign_on_receives(client):
    in_english(client)
    page = client.get("/privacy").text
    for text in ("Logging in through your organisation:", "your e-mail address, your name "
                 "and a stable identifier", "Nothing else is fetched from your organisation",
                 "administrators have set up single sign-on"):
        assert text in page, text

def test_notice_as_data_processor(app_factory):
    client = app_factory(PRIVACY_CONTROLLER_NAME="Drift AS",
                         PRIVACY_OPERATOR_ROLE="processor").test_client()
    in_english(client)
    assert "run by Drift AS on behalf of the municipalities" in client.get("/privacy").text


def test_notice_without_configuration_invents_nobody(client):
    in_english(client)
    page = client.get("/privacy").text
    assert page.count(NOT_FILLED_IN) == 4
    assert "mailto:" not in page
    # The defaults of the retention settings.
    for text in ("after 48 hours", "12 months after the course", "kept 5 years",
                 "30 days after", "after 12 months"):
        assert text in page, text


def test_footer_and_forms_link_to_the_notice(client, kongsberg):
    course = CourseFactory(organisation=kongsberg, allow_guests=True)
    for path in ("/", "/courses/", "/signup", f"/courses/{course.id}/register/guest"):
        assert NOTICE_LINK in client.get(path).text, path
    in_english(client)
    assert "How we handle your personal data" in client.get("/signup").text
    assert "How we handle your personal data" in client.get(
        f"/courses/{course.id}/register/guest").text


# The comment field -----------------------------------------------------------------------

def test_comment_field_warns_about_health_information(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, allow_guests=True)
    in_english(client)
    assert HEALTH_HINT in client.get(f"/courses/{course.id}/register/guest").text
    login(english_member(kongsberg))
    assert HEALTH_HINT in client.get(f"/courses/{course.id}").text


def test_comment_turned_off_is_neither_asked_nor_stored(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, allow_guests=True, ask_for_comment=False)
    assert 'name="comment"' not in client.get(f"/courses/{course.id}/register/guest").text
    client.post(f"/courses/{course.id}/register/guest", data={
        "name": "Gunnar Gjest", "email": "gunnar@firma.example.org", "phone": "12345678",
        "employer": "Firma AS", "comment": "Nøtteallergi"})
    employee = member(kongsberg)
    login(employee)
    assert 'name="comment"' not in client.get(f"/courses/{course.id}").text
    client.post(f"/courses/{course.id}/register", data={"comment": "Diabetes"})
    rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    assert [(r.email, r.comment) for r in rows] == [
        ("gunnar@firma.example.org", ""), (employee.email, "")]


def test_comment_asked_by_default_and_stored(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    assert course.ask_for_comment
    login(member(kongsberg))
    assert 'name="comment"' in client.get(f"/courses/{course.id}").text
    client.post(f"/courses/{course.id}/register", data={"comment": "Glutenfri lunsj"})
    assert db.session.scalar(select(Registration.comment)) == "Glutenfri lunsj"


def test_organiser_turns_the_comment_off_and_a_copy_keeps_it(client, login, kongsberg):
    organiser = member(kongsberg, Role.ORGANISER)
    login(organiser)
    form = {"title": "Uten kommentar", "capacity": "10", "fee_host_ore": "0",
            "reserved_seats": "0", "visibility": "public", "sessions-0-day": "2027-06-15",
            "sessions-0-starts": "09:00", "sessions-0-ends": "15:00"}
    assert 'name="ask_for_comment"' in client.get("/o/kongsberg/admin/courses/new").text
    assert client.post("/o/kongsberg/admin/courses/new", data=form).status_code == 302
    course = db.session.scalar(select(Course))
    assert course.ask_for_comment is False
    client.post(f"/o/kongsberg/admin/courses/{course.id}/edit",
                data={**form, "ask_for_comment": "y"})
    db.session.refresh(course)
    assert course.ask_for_comment is True
    course.ask_for_comment = False
    db.session.commit()
    copy = course_services.copy_course(db.session, organiser, course)
    assert copy.ask_for_comment is False


# Participant downloads -------------------------------------------------------------------

DOWNLOADS = {"csv": ".csv", "xlsx": ".xlsx", "sign-in sheet": "/sign-in-sheet"}


def downloads(course):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "participants.downloaded",
        AuditEvent.object_id == course.id).order_by(AuditEvent.id)).all()


def test_every_download_is_in_the_audit_log(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, title="Førstehjelp")
    add_registration(course, member(kongsberg))
    add_registration(course, member(kongsberg), S.WAITLISTED)
    organiser = member(kongsberg, Role.ORGANISER)
    login(organiser)
    base = f"/o/kongsberg/admin/courses/{course.id}/participants"
    for fmt, suffix in DOWNLOADS.items():
        before = len(downloads(course))
        assert client.get(base + suffix).status_code == 200
        [event] = downloads(course)[before:]
        assert (event.actor_id, event.organisation_id, event.object_type) == (
            organiser.id, kongsberg.id, "course")
        assert event.details == {"course": "Førstehjelp", "format": fmt,
                                 "rows": 1 if fmt == "sign-in sheet" else 2}
    client.get(base)  # looking at the list in the portal is not a download
    assert len(downloads(course)) == 3
    client.post("/logout")
    login(member(kongsberg, Role.ADMIN))
    audit = client.get("/o/kongsberg/admin/audit").text
    assert "participants.downloaded" not in audit  # sentences, not internal codes
    assert audit.count("«Førstehjelp»") == 3


def test_a_refused_download_is_not_logged(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    login(member(OrganisationFactory(), Role.ORGANISER))
    assert client.get(f"/o/kongsberg/admin/courses/{course.id}/participants.csv"
                      ).status_code == 404
    assert downloads(course) == []


def csv_rows(client, course):
    body = client.get(f"/o/kongsberg/admin/courses/{course.id}/participants.csv").data
    return [line.split(";") for line in body.decode("utf-8-sig").strip().splitlines()]


def xlsx_rows(client, course):
    body = client.get(f"/o/kongsberg/admin/courses/{course.id}/participants.xlsx").data
    return list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))


def test_upcoming_course_lists_phone_and_comment(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    add_registration(course, member(kongsberg, name="Åse Ås", email="ase@example.org"),
                     phone="99887766", employer_name="", comment="Rullestol")
    login(english_member(kongsberg, Role.ORGANISER))
    header = ["Name", "E-mail", "Phone", "Employer", "Status", "Comment"]
    assert csv_rows(client, course) == [
        header, ["Åse Ås", "ase@example.org", "99887766", "Kongsberg kommune", "Confirmed",
                 "Rullestol"]]
    assert list(xlsx_rows(client, course)[1]) == header


def test_past_course_without_comments_lists_neither(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, ask_for_comment=False,
                           sessions=[in_days(-3)])
    user = member(kongsberg, name="Bo Bø", email="bo@example.org")
    add_registration(course, user, S.ATTENDED, phone="99887766", comment="gammel")
    login(english_member(kongsberg, Role.ORGANISER))
    header = ["Name", "E-mail", "Employer", "Status"]
    assert csv_rows(client, course) == [
        header, ["Bo Bø", "bo@example.org", "Kongsberg kommune", "Attended"]]
    assert list(xlsx_rows(client, course)[1]) == header
    sheet = client.get(f"/o/kongsberg/admin/courses/{course.id}/participants/sign-in-sheet")
    assert "Bo Bø" in sheet.text
    assert "bo@example.org" not in sheet.text and "99887766" not in sheet.text
