"""The organiser's tools for a course's participants: moving people up, attendance,
exports, the sign-in sheet, e-mail to everyone, cancelling a course and reminders."""

import io

from icalendar import Calendar
from openpyxl import load_workbook

from frikomport.extensions import db
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, in_days, member
from tests.factories import register as add_registration
from tests.helpers import outbox, states


def test_organiser_moves_someone_up_and_records_attendance(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=1)
    seated = add_registration(course, member(kongsberg))
    waiting = add_registration(course, member(kongsberg), S.WAITLISTED)
    login(member(kongsberg, Role.ORGANISER))
    base = f"/o/kongsberg/admin/courses/{course.id}/participants"
    page = client.post(f"{base}/{waiting.id}/promote", follow_redirects=True).text
    assert "Det er ingen ledig plass" in page
    client.post(f"{base}/{seated.id}/attended")
    client.post(f"{base}/{seated.id}/no-show")
    assert states(course)[0][1] == S.NO_SHOW
    course.capacity = 2
    db.session.commit()
    client.post(f"{base}/{waiting.id}/promote")
    assert states(course)[1][1] == S.CONFIRMED
    history = client.get(base).text
    assert "Møtte ikke" in history and "Venteliste → Bekreftet" in history


def test_participants_are_tenant_scoped(client, login, kongsberg, notodden):
    course = CourseFactory(organisation=kongsberg)
    registration = add_registration(course, member(kongsberg))
    base = f"/o/kongsberg/admin/courses/{course.id}/participants"
    login(member(notodden, Role.ORGANISER))
    for path in (base, f"{base}.csv", f"{base}.xlsx", f"{base}/sign-in-sheet", f"{base}/email"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"{base}/{registration.id}/cancel").status_code == 404
    # Nor through the organiser's own organisation in the URL.
    own = f"/o/notodden/admin/courses/{course.id}/participants"
    assert client.get(own).status_code == 404
    assert client.post(f"{own}/{registration.id}/cancel").status_code == 404
    client.post("/logout")
    login(member(kongsberg, Role.EMPLOYEE))
    assert client.get(base).status_code == 403
    assert states(course)[0][1] == S.CONFIRMED


def test_exports_and_sign_in_sheet(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, title="Eksportkurs")
    add_registration(course, member(kongsberg, name="Åse Ås"), comment="=HYPERLINK(\"x\")")
    add_registration(course, member(kongsberg, name="Bo Bø"), S.WAITLISTED)
    login(member(kongsberg, Role.ORGANISER))
    base = f"/o/kongsberg/admin/courses/{course.id}/participants"

    csv_response = client.get(f"{base}.csv")
    text = csv_response.data.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Navn;E-post;Telefon;Arbeidsgiver;Status")
    assert "Åse Ås" in lines[1] and "Bekreftet" in lines[1]
    assert ';"\'=HYPERLINK' in lines[1]  # formula injection defused
    assert "attachment" in csv_response.headers["Content-Disposition"]

    workbook = load_workbook(io.BytesIO(client.get(f"{base}.xlsx").data))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "Eksportkurs" and rows[1][0] == "Navn"
    assert {rows[2][0], rows[3][0]} == {"Åse Ås", "Bo Bø"}

    sheet = client.get(f"{base}/sign-in-sheet").text
    assert "Åse Ås" in sheet and "Bo Bø" not in sheet  # waiting list does not sign in


def test_email_all_participants(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    seated = add_registration(course, member(kongsberg))
    waiting = add_registration(course, member(kongsberg), S.WAITLISTED)
    login(member(kongsberg, Role.ORGANISER))
    url = f"/o/kongsberg/admin/courses/{course.id}/participants/email"
    assert client.post(url, data={"subject": "", "body": ""}).status_code == 400
    client.post(url, data={"subject": "Endret rom", "body": "Vi er i sal 2."})
    assert [m.subject for m in outbox(seated.email)] == ["Endret rom"]
    assert outbox(waiting.email) == []
    client.post(url, data={"subject": "Til alle", "body": "Hei.", "include_waitlisted": "y"})
    assert [m.subject for m in outbox(waiting.email)] == ["Til alle"]


def test_course_cancellation_mails_everyone_registered(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, title="Avlyses")
    seated = add_registration(course, member(kongsberg))
    waiting = add_registration(course, member(kongsberg), S.WAITLISTED)
    gone = add_registration(course, member(kongsberg), S.CANCELLED)
    login(member(kongsberg, Role.ORGANISER))
    client.post(f"/o/kongsberg/admin/courses/{course.id}/cancel",
                data={"reason": "For få påmeldte."})
    for registration in (seated, waiting):
        [mail] = outbox(registration.email)
        assert mail.subject == "Avlyst: Avlyses" and "For få påmeldte." in mail.body_text
        event = Calendar.from_ical(mail.attachments[0].data).walk("VEVENT")[0]
        assert str(event["status"]) == "CANCELLED"
    assert outbox(gone.email) == []


def test_reminders_are_sent_once(app, kongsberg):
    soon = CourseFactory(organisation=kongsberg, sessions=[in_days(1)])
    later = CourseFactory(organisation=kongsberg, sessions=[in_days(10)])
    a = add_registration(soon, member(kongsberg))
    add_registration(soon, member(kongsberg), S.WAITLISTED)
    b = add_registration(later, member(kongsberg))
    runner = app.test_cli_runner()
    assert "1 reminder(s)" in runner.invoke(args=["reminders", "send"]).output
    assert "0 reminder(s)" in runner.invoke(args=["reminders", "send"]).output
    assert outbox(a.email)[0].subject.startswith("Påminnelse")
    assert outbox(b.email) == []


