"""The three end-to-end scenarios of the domain model (../shared/DESIGN.md)."""

from icalendar import Calendar
from sqlalchemy import select

from frikomport.courses.models import Course
from frikomport.extensions import db
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.search import indexer, service
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, OrganisationFactory, member
from tests.factories import register as add_registration
from tests.helpers import outbox
from tests.test_courses import course_form


def test_region_course_found_by_search_and_registered_with_ics(app, client, login):
    """An organiser in Kongsberg publishes a course open to the region; an employee in
    Notodden finds it by searching "førstehjelp", registers in one click and gets a
    confirmation e-mail with an .ics file."""
    kongsberg = OrganisationFactory(slug="kongsberg", name="Kongsberg kommune")
    notodden = OrganisationFactory(slug="notodden", name="Notodden kommune")
    indexer.rebuild(db.session, service.backend_for(app))
    login(member(kongsberg, Role.ORGANISER))
    client.post("/o/kongsberg/admin/courses/new", data=course_form(
        title="Førstehjelp for barnehageansatte", visibility="region",
        **{"sessions-0-day": "2027-03-02"}))
    course_id = db.session.scalar(select(Course.id))
    client.post(f"/o/kongsberg/admin/courses/{course_id}/publish")
    client.post("/logout")
    indexer.process_jobs(db.session, service.backend_for(app))  # the indexer's next round

    employee = member(notodden, Role.EMPLOYEE, email="marte@notodden.example.org")
    login(employee)
    results = client.get("/search/?q=førstehjelp").text
    assert f'href="/courses/{course_id}">Førstehjelp for barnehageansatte' in results
    client.post(f"/courses/{course_id}/register")
    [mail] = outbox("marte@notodden.example.org")
    assert mail.subject == "Påmelding bekreftet: Førstehjelp for barnehageansatte"
    [event] = Calendar.from_ical(mail.attachments[0].data).walk("VEVENT")
    assert str(event["summary"]) == "Førstehjelp for barnehageansatte"


def test_full_course_waitlist_and_promotion(app, client, login):
    """The course fills up; the next registrants are waitlisted; one participant cancels;
    the first on the waiting list is promoted and notified."""
    kongsberg = OrganisationFactory(slug="kongsberg")
    course = CourseFactory(organisation=kongsberg, capacity=2, title="HLR")
    people = [member(kongsberg, email=f"ansatt{n}@example.org") for n in range(4)]
    for person in people:
        login(person)
        client.post(f"/courses/{course.id}/register")
        client.post("/logout")
    states = dict(db.session.execute(select(Registration.email, Registration.state)).all())
    assert [states[p.email] for p in people] == [RegistrationState.CONFIRMED] * 2 + [
        RegistrationState.WAITLISTED] * 2
    login(people[1])
    mine = db.session.scalar(select(Registration.id).where(
        Registration.email == people[1].email))
    client.post(f"/me/registrations/{mine}/cancel")
    db.session.expire_all()
    promoted = db.session.scalar(select(Registration).where(
        Registration.email == people[2].email))
    assert promoted.state == RegistrationState.CONFIRMED
    assert outbox(people[2].email)[-1].subject == "Du har fått plass: HLR"
    still_waiting = db.session.scalar(select(Registration).where(
        Registration.email == people[3].email))
    assert still_waiting.state == RegistrationState.WAITLISTED


def test_other_tenants_organiser_sees_nothing_internal(app, client, login):
    """An organiser in Flesberg can neither see nor edit Kongsberg's internal courses or
    participant lists."""
    from frikomport.courses.models import Visibility

    kongsberg = OrganisationFactory(slug="kongsberg")
    flesberg = OrganisationFactory(slug="flesberg")
    course = CourseFactory(organisation=kongsberg, title="Intern lederopplæring",
                           visibility=Visibility.INTERNAL)
    add_registration(course, member(kongsberg))
    indexer.rebuild(db.session, service.backend_for(app))
    login(member(flesberg, Role.ORGANISER))
    assert client.get(f"/courses/{course.id}").status_code == 404
    assert "Intern lederopplæring" not in client.get("/courses/").text
    assert "Intern lederopplæring" not in client.get("/search/?q=lederopplæring").text
    assert client.get("/search/suggest?q=lederopp").json == []
    for path in (f"/o/kongsberg/admin/courses/{course.id}/edit",
                 f"/o/kongsberg/admin/courses/{course.id}/participants",
                 f"/o/kongsberg/admin/courses/{course.id}/participants.csv",
                 f"/o/flesberg/admin/courses/{course.id}/edit",
                 f"/o/flesberg/admin/courses/{course.id}/participants"):
        assert client.get(path).status_code == 404, path
