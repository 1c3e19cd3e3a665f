"""The registration engine: rules, waiting list, cancellation, guests, approval, e-mails."""

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from frikomport.courses.models import CourseState, Visibility
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.registrations.models import Registration, RegistrationEvent
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, in_days, member
from tests.factories import register as add_registration
from tests.helpers import link_in, outbox, states


def counters(course):
    db.session.refresh(course)
    return course.confirmed_count, course.waitlist_count


def sign_up(client, login, course, user, comment=""):
    login(user)
    response = client.post(f"/courses/{course.id}/register", data={"comment": comment},
                           follow_redirects=True)
    client.post("/logout")
    return response


# Registering ---------------------------------------------------------------------------

def test_one_click_registration_confirms_and_mails_ics(client, login, kongsberg, notodden):
    course = CourseFactory(organisation=kongsberg, title="Førstehjelp", capacity=5,
                           visibility=Visibility.REGION)
    employee = member(notodden, Role.EMPLOYEE, email="marte@notodden.example.org")
    page = sign_up(client, login, course, employee, comment="Glutenfri lunsj").text
    assert "Du er påmeldt" in page
    [registration] = db.session.scalars(select(Registration))
    assert (registration.state, registration.comment) == (S.CONFIRMED, "Glutenfri lunsj")
    assert registration.employer_organisation_id == notodden.id
    assert counters(course) == (1, 0)

    [message] = outbox("marte@notodden.example.org")
    assert message.subject == "Påmelding bekreftet: Førstehjelp"
    [ics] = message.attachments
    assert ics.content_type == "text/calendar"
    events = Calendar.from_ical(ics.data).walk("VEVENT")
    assert events[0]["dtstart"].dt == course.sessions[0].starts_at
    assert "/registrations/cancel/" in message.body_text
    [event] = db.session.scalars(select(RegistrationEvent))
    assert (event.from_state, event.to_state, event.actor_id) == (None, "confirmed", employee.id)


def test_registering_twice_is_refused(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    employee = member(kongsberg)
    sign_up(client, login, course, employee)
    again = sign_up(client, login, course, employee).text
    assert "allerede påmeldt" in again
    assert len(states(course)) == 1


def test_database_refuses_a_second_active_registration(app, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    employee = member(kongsberg)
    add_registration(course, employee)
    with pytest.raises(IntegrityError):
        add_registration(course, employee)
    db.session.rollback()
    # A cancelled registration does not block a new one.
    db.session.execute(Registration.__table__.update().values(state="cancelled"))
    db.session.commit()
    add_registration(course, employee)


@pytest.mark.parametrize(("course_fields", "message"), [
    ({"registration_opens_at": utcnow() + timedelta(days=1)}, "ikke åpnet ennå"),
    ({"registration_closes_at": utcnow() - timedelta(hours=1)}, "Påmeldingen er stengt"),
    ({"sessions": [in_days(-1)]}, "Påmeldingen er stengt"),  # already started
    ({"state": CourseState.CANCELLED}, "ikke åpent for påmelding"),
])
def test_registration_window_and_state(client, login, kongsberg, course_fields, message):
    course = CourseFactory(organisation=kongsberg, **course_fields)
    page = sign_up(client, login, course, member(kongsberg)).text
    assert message in page
    assert states(course) == []


def test_unconfirmed_email_cannot_register(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    page = sign_up(client, login, course, member(kongsberg, email_confirmed_at=None)).text
    assert "Bekreft e-postadressen din før du melder deg på" in page
    assert states(course) == []


def test_cannot_register_for_invisible_course(client, login, kongsberg, notodden):
    internal = CourseFactory(organisation=kongsberg, visibility=Visibility.INTERNAL)
    login(member(notodden))
    assert client.post(f"/courses/{internal.id}/register").status_code == 404
    assert states(internal) == []


# Waiting list ------------------------------------------------------------------------------

def test_full_course_waitlists_in_order_and_cancellation_promotes_first(client, login,
                                                                      kongsberg):
    course = CourseFactory(organisation=kongsberg, title="HLR", capacity=2)
    people = [member(kongsberg, email=f"p{n}@example.org") for n in range(5)]
    for person in people:
        sign_up(client, login, course, person)
    assert [state for _, state in states(course)] == [S.CONFIRMED] * 2 + [S.WAITLISTED] * 3
    assert counters(course) == (2, 3)
    [waitlisted_mail] = outbox("p3@example.org")
    assert "nummer 2" in waitlisted_mail.body_text

    login(people[0])
    mine = db.session.scalar(select(Registration).where(Registration.email == "p0@example.org"))
    client.post(f"/me/registrations/{mine.id}/cancel")
    assert [state for _, state in states(course)] == [
        S.CANCELLED, S.CONFIRMED, S.CONFIRMED, S.WAITLISTED, S.WAITLISTED]
    assert counters(course) == (2, 2)
    promoted = outbox("p2@example.org")[-1]
    assert promoted.subject == "Du har fått plass: HLR" and promoted.attachments
    page = client.get(f"/courses/{course.id}").text
    assert "Fullt – venteliste (2)" in page


def test_raising_capacity_promotes_from_waiting_list(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=1)
    first, second, third = (member(kongsberg) for _ in range(3))
    for person in (first, second, third):
        add_registration(course, person, S.CONFIRMED if person is first else S.WAITLISTED)
    organiser = member(kongsberg, Role.ORGANISER)
    from frikomport.courses.services import CourseData, update_course

    data = CourseData.from_course(course)
    data.capacity = 2
    update_course(db.session, organiser, course, data)
    db.session.commit()
    assert [s for _, s in states(course)] == [S.CONFIRMED, S.CONFIRMED, S.WAITLISTED]
    assert counters(course) == (2, 1)
    assert outbox(second.email)[-1].subject.startswith("Du har fått plass")


def test_waiting_list_position_shown_on_course_page(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=1)
    add_registration(course, member(kongsberg))
    add_registration(course, member(kongsberg), S.WAITLISTED)
    me = member(kongsberg)
    add_registration(course, me, S.WAITLISTED)
    login(me)
    assert "Venteliste, nummer 2" in client.get(f"/courses/{course.id}").text


# Reserved seats ----------------------------------------------------------------------------

def test_reserved_seats_are_held_for_host_employees_until_released(client, login, kongsberg,
                                                                  notodden, app):
    course = CourseFactory(organisation=kongsberg, capacity=3, reserved_seats=2,
                           reserved_until=utcnow() + timedelta(days=2),
                           visibility=Visibility.REGION)
    guests = [member(notodden, email=f"n{n}@example.org") for n in range(2)]
    hosts = [member(kongsberg, email=f"k{n}@example.org") for n in range(3)]
    for person in [*guests, *hosts]:
        sign_up(client, login, course, person)
    assert dict(states(course)) == {
        "n0@example.org": S.CONFIRMED, "n1@example.org": S.WAITLISTED,
        "k0@example.org": S.CONFIRMED, "k1@example.org": S.CONFIRMED,
        "k2@example.org": S.WAITLISTED}

    # One host employee cancels while seats are still reserved: the next *host* gets it.
    login(hosts[0])
    mine = db.session.scalar(select(Registration).where(Registration.email == "k0@example.org"))
    client.post(f"/me/registrations/{mine.id}/cancel")
    assert dict(states(course))["k2@example.org"] == S.CONFIRMED
    assert dict(states(course))["n1@example.org"] == S.WAITLISTED


def test_seats_open_to_all_when_reservation_ends(client, login, kongsberg, notodden, app):
    course = CourseFactory(organisation=kongsberg, capacity=2, reserved_seats=1,
                           reserved_until=utcnow() + timedelta(days=2),
                           visibility=Visibility.REGION)
    for n in range(2):
        sign_up(client, login, course, member(notodden, email=f"n{n}@example.org"))
    assert counters(course) == (1, 1)
    course.reserved_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["registrations", "release-reserved"])
    assert "1 registration(s)" in result.output
    assert [s for _, s in states(course)] == [S.CONFIRMED, S.CONFIRMED]


# Cancelling ----------------------------------------------------------------------------

def test_cancel_link_from_email_asks_before_cancelling(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    person = member(kongsberg, email="lenke@example.org")
    sign_up(client, login, course, person)
    path = link_in(outbox("lenke@example.org")[0], "/registrations/cancel/")
    assert "Ja, meld meg av" in client.get(path).text
    assert states(course)[0][1] == S.CONFIRMED  # a GET changes nothing
    assert client.post(path).status_code == 302
    assert states(course)[0][1] == S.CANCELLED
    assert "allerede avmeldt" in client.get(path).text
    assert "Lenken er ugyldig" in client.get("/registrations/cancel/forged",
                                             follow_redirects=True).text


def test_cancelling_own_registration_asks_first_and_returns_to_the_course(client, login,
                                                                         kongsberg):
    course = CourseFactory(organisation=kongsberg, title="Brannvern")
    person = member(kongsberg)
    registration = add_registration(course, person)
    login(person)
    course_page = client.get(f"/courses/{course.id}").text
    confirm = f"/me/registrations/{registration.id}/cancel?next=/courses/{course.id}"
    assert f'href="{confirm}"' in course_page  # a link to the question, not a form
    page = client.get(confirm).text
    assert states(course)[0][1] == S.CONFIRMED  # a GET changes nothing
    for text in ("Brannvern", f'datetime="{course.starts_at.isoformat()}"',
                 "Ja, meld meg av", f'href="/courses/{course.id}"'):
        assert text in page, text
    response = client.post(confirm)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/courses/{course.id}"
    assert states(course)[0][1] == S.CANCELLED
    assert "Du er meldt av." in client.get(f"/courses/{course.id}").text


def test_cancelling_from_my_registrations_goes_back_there_and_never_off_site(client, login,
                                                                           kongsberg):
    course = CourseFactory(organisation=kongsberg)
    person = member(kongsberg)
    registration = add_registration(course, person)
    login(person)
    mine = client.get("/me/registrations").text
    assert f'href="/me/registrations/{registration.id}/cancel?next=/me/registrations"' in mine
    response = client.post(
        f"/me/registrations/{registration.id}/cancel?next=https://evil.example.org/")
    assert response.headers["Location"] == "/me/registrations"
    assert states(course)[0][1] == S.CANCELLED
    assert "allerede avmeldt" in client.get(
        f"/me/registrations/{registration.id}/cancel").text


def test_cancellation_deadline_binds_participants_not_organisers(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg,
                           cancellation_deadline=utcnow() - timedelta(hours=1))
    person = member(kongsberg)
    registration = add_registration(course, person)
    login(person)
    confirm = f"/me/registrations/{registration.id}/cancel"
    asked = client.get(confirm).text
    assert "Fristen for å melde seg av er ute" in asked and "Ja, meld meg av" not in asked
    refused = client.post(confirm)
    assert refused.status_code == 400 and "Fristen for å melde seg av er ute" in refused.text
    assert states(course)[0][1] == S.CONFIRMED
    client.post("/logout")
    login(member(kongsberg, Role.ORGANISER))
    client.post(f"/o/kongsberg/admin/courses/{course.id}/participants/{registration.id}/cancel")
    assert states(course)[0][1] == S.CANCELLED
    assert "Arrangøren har meldt deg av" in outbox(person.email)[-1].body_text


def test_cannot_cancel_someone_elses_registration(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    registration = add_registration(course, member(kongsberg))
    login(member(kongsberg))
    assert client.get(f"/me/registrations/{registration.id}/cancel").status_code == 404
    assert client.post(f"/me/registrations/{registration.id}/cancel").status_code == 404
    assert states(course)[0][1] == S.CONFIRMED


# Approval ------------------------------------------------------------------------------

def test_approval_flow(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, title="Lederkurs", capacity=1,
                           requires_approval=True)
    first, second, third = (member(kongsberg, email=f"a{n}@example.org") for n in range(3))
    for person in (first, second, third):
        sign_up(client, login, course, person)
    assert [s for _, s in states(course)] == [S.PENDING] * 3
    assert counters(course) == (0, 0)  # pending registrations hold no seat
    assert "godkjenner" in outbox("a0@example.org")[0].body_text

    login(member(kongsberg, Role.ORGANISER))
    ids = [r.id for r in db.session.scalars(select(Registration).order_by(Registration.id))]
    base = f"/o/kongsberg/admin/courses/{course.id}/participants"
    client.post(f"{base}/{ids[0]}/approve")
    client.post(f"{base}/{ids[1]}/approve")
    client.post(f"{base}/{ids[2]}/reject")
    assert [s for _, s in states(course)] == [S.CONFIRMED, S.WAITLISTED, S.REJECTED]
    assert outbox("a2@example.org")[-1].subject == "Påmeldingen ble ikke godkjent: Lederkurs"
    page = client.post(f"{base}/{ids[2]}/approve", follow_redirects=True).text
    assert "Bare påmeldinger som venter på godkjenning" in page


# Guests --------------------------------------------------------------------------------

def guest_data(**overrides):
    data = {"name": "Gunnar Gjest", "email": "gunnar@firma.example.org", "phone": "12345678",
            "employer": "Firma AS", "comment": ""}
    data.update(overrides)
    return data


def test_guest_registers_and_counts_after_confirming(client, kongsberg):
    course = CourseFactory(organisation=kongsberg, allow_guests=True, capacity=1)
    response = client.post(f"/courses/{course.id}/register/guest", data=guest_data())
    assert response.status_code == 302
    assert states(course) == [("gunnar@firma.example.org", S.PENDING)]
    assert counters(course) == (0, 0)
    [mail] = outbox("gunnar@firma.example.org")
    path = link_in(mail, "/registrations/confirm/")
    client.get(path)
    assert states(course) == [("gunnar@firma.example.org", S.CONFIRMED)]
    client.get(path)  # clicking again changes nothing
    assert counters(course) == (1, 0)
    assert outbox("gunnar@firma.example.org")[-1].subject.startswith("Påmelding bekreftet")
    # Registering the address again answers exactly as the first time (who is registered
    # is nobody else's business); the address is told by e-mail instead.
    again = client.post(f"/courses/{course.id}/register/guest", data=guest_data(),
                        follow_redirects=True)
    assert again.status_code == 200 and "Åpne lenken" in again.text
    assert states(course) == [("gunnar@firma.example.org", S.CONFIRMED)]
    assert outbox("gunnar@firma.example.org")[-1].subject.startswith("Du er allerede påmeldt")


def test_guest_registration_only_where_allowed(client, kongsberg):
    closed = CourseFactory(organisation=kongsberg, allow_guests=False)
    assert client.get(f"/courses/{closed.id}/register/guest").status_code == 404
    assert client.post(f"/courses/{closed.id}/register/guest",
                       data=guest_data()).status_code == 404
    region = CourseFactory(organisation=kongsberg, allow_guests=True,
                           visibility=Visibility.REGION)
    assert client.get(f"/courses/{region.id}/register/guest").status_code == 404


def test_guest_input_is_validated(client, kongsberg):
    course = CourseFactory(organisation=kongsberg, allow_guests=True)
    response = client.post(f"/courses/{course.id}/register/guest",
                           data=guest_data(email="ikke-epost", name=""))
    assert response.status_code == 400
    assert states(course) == []


def test_forged_guest_confirmation(client, kongsberg):
    page = client.get("/registrations/confirm/forged", follow_redirects=True).text
    assert "Bekreftelseslenken er ugyldig" in page


# Mine påmeldinger and the personal calendar ------------------------------------------------

def test_my_registrations_and_personal_calendar(client, login, kongsberg):
    me = member(kongsberg)
    upcoming = CourseFactory(organisation=kongsberg, title="Kommende kurs")
    past = CourseFactory(organisation=kongsberg, title="Tidligere kurs", sessions=[in_days(-5)])
    add_registration(upcoming, me)
    add_registration(past, me, S.ATTENDED)
    login(me)
    page = client.get("/me/registrations").text
    assert page.index("Kommende kurs") < page.index("Tidligere kurs")
    assert "Deltok" in page

    client.post("/me/calendar")
    db.session.refresh(me)
    token = me.calendar_token
    client.post("/logout")
    feed = client.get(f"/me/calendar/{token}.ics")  # no login: calendar apps have no session
    titles = {str(e["summary"]) for e in Calendar.from_ical(feed.data).walk("VEVENT")}
    assert titles == {"Kommende kurs", "Tidligere kurs"}

    login(me)
    client.post("/me/calendar")
    assert client.get(f"/me/calendar/{token}.ics").status_code == 404
    assert client.get("/me/calendar/guess.ics").status_code == 404
