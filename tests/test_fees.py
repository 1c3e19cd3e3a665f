"""Fees (issue 13): the fee is chosen by the person's employer, fixed when the seat is
given, shown before registering and in the confirmation, and charged for a kept seat, a
no-show (when the course says so) and a self-cancellation after the free date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from frikomport.billing import fees
from frikomport.courses.models import Course
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.registrations import services
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, in_days, member
from tests.helpers import link_in, outbox
from tests.test_courses import course_form

HOST, REGION, GUEST = 100_000, 125_050, 150_000


@pytest.fixture
def paid(kongsberg):
    return CourseFactory(organisation=kongsberg, title="Brannvern", capacity=2,
                         allow_guests=True, fee_host_ore=HOST, fee_region_ore=REGION,
                         fee_guest_ore=GUEST)


def registration_of(person) -> Registration:
    return db.session.scalars(select(Registration).where(
        Registration.email == person.email)).one()


def sign_up(client, login, course, person, reference=""):
    login(person)
    client.post(f"/courses/{course.id}/register", data={"own_reference": reference})
    client.post("/logout")
    return registration_of(person)


def test_the_employer_decides_the_fee(client, login, paid, kongsberg, notodden):
    own = sign_up(client, login, paid, member(kongsberg, email="egen@kongsberg.no"))
    other = sign_up(client, login, paid, member(notodden, email="annen@notodden.no"))
    client.post(f"/courses/{paid.id}/register/guest", data={
        "name": "Gro Gjest", "email": "gro@firma.example.org", "phone": "12345678",
        "employer": "Firma AS", "comment": ""})
    client.get(link_in(outbox("gro@firma.example.org")[0], "/registrations/confirm/"))
    guest = db.session.scalars(select(Registration).where(Registration.user_id.is_(None))).one()
    assert [(r.fee_kind, r.fee_ore) for r in (own, other)] == [("host", HOST),
                                                               ("region", REGION)]
    assert (guest.state, guest.fee_kind, guest.fee_ore) == (S.WAITLISTED, None, None)


def test_the_fee_is_fixed_at_confirmation_not_at_registration(client, login, paid, notodden):
    first = sign_up(client, login, paid, member(notodden, email="en@notodden.no"))
    second = sign_up(client, login, paid, member(notodden, email="to@notodden.no"))
    waiting = sign_up(client, login, paid, member(notodden, email="tre@notodden.no"))
    assert (waiting.state, waiting.fee_ore) == (S.WAITLISTED, None)
    paid.fee_region_ore = 200_000  # the price goes up after two seats were given
    db.session.commit()
    services.cancel_own(db.session, second.user, second.id)
    db.session.commit()
    db.session.refresh(first)
    db.session.refresh(waiting)
    assert first.fee_ore == REGION  # kept what they agreed to
    assert (waiting.state, waiting.fee_ore) == (S.CONFIRMED, 200_000)  # today's price


def test_the_fee_is_shown_before_registering_and_in_the_confirmation(client, login, paid,
                                                                      notodden):
    person = member(notodden, email="kari@notodden.no", name="Kari")
    login(person)
    page = client.get(f"/courses/{paid.id}").text
    assert "Ansatte i" in page and "1\xa0000\xa0kr" in page and "1\xa0250,50\xa0kr" in page
    assert "Du betaler 1\xa0250,50\xa0kr." in page and 'name="own_reference"' in page
    client.post(f"/courses/{paid.id}/register", data={"own_reference": "Koststed 4711"})
    assert registration_of(person).own_reference == "Koststed 4711"
    [mail] = outbox(person.email)
    assert "Pris: 1\xa0250,50\xa0kr. Din referanse: Koststed 4711." in mail.body_text
    assert "Hvis du ikke møter og ikke har meldt deg av, betaler du likevel." in mail.body_text


def test_a_free_course_asks_for_no_reference(client, login, kongsberg):
    free = CourseFactory(organisation=kongsberg)
    person = member(kongsberg)
    login(person)
    page = client.get(f"/courses/{free.id}").text
    assert 'name="own_reference"' not in page and "Gratis" in page
    client.post(f"/courses/{free.id}/register", data={"own_reference": "sendt likevel"})
    assert registration_of(person).own_reference == ""


def test_cancelling_after_the_free_date_is_charged_by_the_organiser_never(
        client, login, paid, kongsberg):
    early, late, dropped = (sign_up(client, login, paid, member(kongsberg, email=e))
                            for e in ("tidlig@k.no", "sen@k.no", "strøket@k.no"))
    paid.capacity = 3
    services.cancel_own(db.session, early.user, early.id)
    paid.free_cancellation_until = utcnow() - timedelta(hours=1)
    db.session.commit()
    services.cancel_own(db.session, late.user, late.id)
    services.cancel_by_organiser(db.session, member(kongsberg, Role.ORGANISER), kongsberg,
                                 paid.id, dropped.id)
    db.session.commit()
    assert [(r.state, r.charged_cancellation, fees.is_charged(r))
            for r in (early, late, dropped)] == [(S.CANCELLED, False, False),
                                                 (S.CANCELLED, True, True),
                                                 (S.CANCELLED, False, False)]
    assert "Avmelding etter" in client.get(f"/courses/{paid.id}").text


@pytest.mark.parametrize("charge_no_shows", [True, False])
def test_a_no_show_is_charged_when_the_course_says_so(client, login, kongsberg,
                                                       charge_no_shows):
    course = CourseFactory(organisation=kongsberg, fee_host_ore=HOST, sessions=[in_days(-1)],
                           charge_no_shows=charge_no_shows)
    came, stayed_away = (member(kongsberg, email=e) for e in ("kom@k.no", "borte@k.no"))
    for person in (came, stayed_away):  # the course has started: added directly
        registration = Registration(
            organisation_id=course.organisation_id, course=course, user=person,
            name=person.name, email=person.email, employer_organisation_id=kongsberg.id,
            state=S.CONFIRMED, fee_ore=HOST, fee_kind="host")
        db.session.add(registration)
    course.confirmed_count = 2
    db.session.commit()
    organiser = member(kongsberg, Role.ORGANISER)
    ids = {r.email: r.id for r in db.session.scalars(select(Registration))}
    services.mark_attendance(db.session, organiser, kongsberg, course.id, ids["kom@k.no"], True)
    services.mark_attendance(db.session, organiser, kongsberg, course.id, ids["borte@k.no"],
                             False)
    db.session.commit()
    charged = {r.email: fees.is_charged(r) for r in db.session.scalars(select(Registration))}
    assert charged == {"kom@k.no": True, "borte@k.no": charge_no_shows}


def test_organisers_write_fees_in_kroner_with_ore(client, login, kongsberg):
    login(member(kongsberg, Role.ORGANISER))
    client.post("/o/kongsberg/admin/courses/new", data=course_form(
        fee_host_ore="1 200,50", fee_region_ore="1500 kr", fee_guest_ore="",
        free_cancellation_until="2027-06-01T12:00", charge_no_shows=""))
    course = db.session.scalar(select(Course))
    assert (course.fee_host_ore, course.fee_region_ore, course.fee_guest_ore) == (
        120_050, 150_000, 0)
    assert course.charge_no_shows is False and course.free_cancellation_until is not None
    edit = client.get(f"/o/kongsberg/admin/courses/{course.id}/edit").text
    assert 'value="1200,50"' in edit and 'value="1500"' in edit
    refused = client.post(f"/o/kongsberg/admin/courses/{course.id}/edit",
                          data=course_form(fee_host_ore="tolv hundre")).text
    assert "Skriv et beløp i kroner, for eksempel 1200 eller 1200,50." in refused


def test_the_participant_list_download_carries_fee_and_reference(client, login, paid,
                                                                  notodden, kongsberg):
    sign_up(client, login, paid, member(notodden, email="ref@notodden.no"), "Ressurs 12")
    login(member(kongsberg, Role.ORGANISER))
    csv_text = client.get(f"/o/kongsberg/admin/courses/{paid.id}/participants.csv").text
    header, row = csv_text.splitlines()[:2]
    assert header.endswith(";Pris (kr);Referanse") and row.endswith(";1250,50;Ressurs 12")
