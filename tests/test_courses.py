"""Organisers publish courses; everyone browses what they may see."""

import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from frikomport.courses import services
from frikomport.courses.models import Category, Course, CourseState, Visibility
from frikomport.courses.signals import course_cancelled
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from frikomport.timeutil import local_to_utc
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    LocationFactory,
    OrganisationFactory,
    ServiceAreaFactory,
    in_days,
    member,
)


@pytest.fixture
def organiser(kongsberg, login):
    user = member(kongsberg, Role.ORGANISER)
    login(user)
    return user


def course_form(**overrides):
    data = {
        "title": "Førstehjelp i barnehagen", "summary": "Praktisk kurs.",
        "description": "## Innhold\n\n- HLR", "category": "", "service_area": "",
        "location": "", "target_group": "Barnehageansatte", "instructor": "Røde Kors",
        "contact_name": "Ola", "contact_email": "ola@example.org", "contact_phone": "",
        "fee_host_ore": "0", "capacity": "20", "reserved_seats": "0", "visibility": "public",
        "sessions-0-day": "2027-06-15", "sessions-0-starts": "09:00", "sessions-0-ends": "15:00",
        "sessions-1-day": "", "sessions-1-starts": "", "sessions-1-ends": "",
    }
    data.update(overrides)
    return data


def only_course() -> Course:
    return db.session.scalar(select(Course))


# Organiser: create, edit, publish, copy, cancel ----------------------------------------

def test_organiser_creates_draft_with_oslo_times_stored_as_utc(client, organiser, kongsberg):
    response = client.post("/o/kongsberg/admin/courses/new", data=course_form(**{
        "sessions-1-day": "2027-01-12", "sessions-1-starts": "13:00",
        "sessions-1-ends": "14:30"}))
    assert response.status_code == 302
    course = only_course()
    assert (course.state, course.organisation_id) == (CourseState.DRAFT, kongsberg.id)
    # Oslo is UTC+1 in winter and UTC+2 in summer; sessions are sorted.
    assert [(s.starts_at, s.ends_at) for s in course.sessions] == [
        (datetime(2027, 1, 12, 12, tzinfo=UTC), datetime(2027, 1, 12, 13, 30, tzinfo=UTC)),
        (datetime(2027, 6, 15, 7, tzinfo=UTC), datetime(2027, 6, 15, 13, tzinfo=UTC)),
    ]
    assert (course.starts_at, course.ends_at) == (course.sessions[0].starts_at,
                                                   course.sessions[1].ends_at)
    edit_page = client.get(f"/o/kongsberg/admin/courses/{course.id}/edit").text
    assert 'value="13:00"' in edit_page and 'value="2027-06-15"' in edit_page


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sessions-0-ends": "08:00"}, "slutte etter at den starter"),
    ({"capacity": "-1"}, "Antall plasser"),
    ({"sessions-0-starts": ""}, "Fyll ut dato, start og slutt"),
    ({"category": "999"}, "Ikke et gyldig valg"),
    ({"reserved_seats": "30"}, "Kan ikke reservere flere plasser"),
    ({"registration_opens_at": "2027-05-01T10:00", "registration_closes_at": "2027-04-01T10:00"},
     "Påmeldingen må stenge etter at den åpner"),
    ({"fee_host_ore": "gratis"}, "Skriv et beløp i kroner, for eksempel 1200 eller 1200,50."),
    ({"title": ""}, "Tittel"),
])
def test_bad_course_input_is_a_form_error(client, organiser, overrides, message):
    response = client.post("/o/kongsberg/admin/courses/new", data=course_form(**overrides))
    assert response.status_code == 400
    assert message in response.text or message.lower() in response.text.lower()
    assert only_course() is None


def test_other_tenants_vocabulary_cannot_be_used(client, organiser, kongsberg):
    foreign = CategoryFactory(organisation=OrganisationFactory(), name="Fremmed")
    response = client.post("/o/kongsberg/admin/courses/new",
                           data=course_form(category=str(foreign.id)))
    assert response.status_code == 400
    assert only_course() is None


def test_own_vocabulary_is_saved(client, organiser, kongsberg):
    category = CategoryFactory(organisation=kongsberg, name="Sikkerhet")
    area = ServiceAreaFactory(organisation=kongsberg, name="Oppvekst")
    location = LocationFactory(organisation=kongsberg, name="Rådhuset")
    client.post("/o/kongsberg/admin/courses/new", data=course_form(
        category=str(category.id), service_area=str(area.id), location=str(location.id)))
    course = only_course()
    assert (course.category_id, course.service_area_id, course.location_id) == (
        category.id, area.id, location.id)


def test_publish_needs_a_session_then_course_is_listed(client, organiser, kongsberg):
    client.post("/o/kongsberg/admin/courses/new", data=course_form(**{
        "sessions-0-day": "", "sessions-0-starts": "", "sessions-0-ends": ""}))
    course = only_course()
    page = client.post(f"/o/kongsberg/admin/courses/{course.id}/publish",
                       follow_redirects=True).text
    assert "minst én samling" in page
    assert only_course().state == CourseState.DRAFT

    day = (date.today() + timedelta(days=30)).isoformat()
    client.post(f"/o/kongsberg/admin/courses/{course.id}/edit", data=course_form(**{
        "sessions-0-day": day}))
    client.post(f"/o/kongsberg/admin/courses/{course.id}/publish")
    course = only_course()
    assert course.state == CourseState.PUBLISHED and course.published_at is not None
    client.post("/logout")
    assert "Førstehjelp i barnehagen" in client.get("/courses/").text


def test_edit_keeps_capacity_above_confirmed(client, organiser, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=10, confirmed_count=8)
    response = client.post(f"/o/kongsberg/admin/courses/{course.id}/edit",
                           data=course_form(capacity="5"))
    assert response.status_code == 400 and "8 personer har allerede plass" in response.text


def test_copy_makes_a_new_draft_with_sessions_and_attachments(client, organiser, kongsberg):
    course = CourseFactory(organisation=kongsberg, title="HLR")
    services_attachment(course, organiser)
    response = client.post(f"/o/kongsberg/admin/courses/{course.id}/copy")
    copy = db.session.scalar(select(Course).where(Course.id != course.id))
    assert response.headers["Location"].endswith(f"/courses/{copy.id}/edit")
    assert (copy.title, copy.state) == ("Kopi av HLR", CourseState.DRAFT)
    assert [s.starts_at for s in copy.sessions] == [s.starts_at for s in course.sessions]
    assert [a.filename for a in copy.attachments] == ["program.pdf"]
    download = client.get(f"/courses/{copy.id}/attachments/{copy.attachments[0].id}")
    assert download.data == b"%PDF-1.4 program"


def services_attachment(course, actor):
    from frikomport.courses.attachments import add_attachment

    add_attachment(db.session, actor, course, "program.pdf", io.BytesIO(b"%PDF-1.4 program"))
    db.session.commit()


def test_cancel_requires_reason_and_signals_subscribers(client, organiser, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    received = []

    def receiver(sender, **kwargs):
        received.append((sender.id, kwargs["reason"]))

    course_cancelled.connect(receiver)
    try:
        empty = client.post(f"/o/kongsberg/admin/courses/{course.id}/cancel",
                            data={"reason": ""})
        assert empty.status_code == 400
        response = client.post(f"/o/kongsberg/admin/courses/{course.id}/cancel",
                               data={"reason": "Instruktøren er syk."})
        assert response.status_code == 302
    finally:
        course_cancelled.disconnect(receiver)
    assert received == [(course.id, "Instruktøren er syk.")]
    db.session.refresh(course)
    assert course.state == CourseState.CANCELLED
    page = client.get(f"/courses/{course.id}").text
    assert "Kurset er avlyst" in page and "Instruktøren er syk." in page
    cannot_edit = client.post(f"/o/kongsberg/admin/courses/{course.id}/edit",
                              data=course_form())
    assert cannot_edit.status_code == 400


def test_only_drafts_can_be_deleted(client, organiser, kongsberg):
    published = CourseFactory(organisation=kongsberg)
    draft = CourseFactory(organisation=kongsberg, state=CourseState.DRAFT)
    client.post(f"/o/kongsberg/admin/courses/{published.id}/delete")
    client.post(f"/o/kongsberg/admin/courses/{draft.id}/delete")
    assert [c.id for c in db.session.scalars(select(Course))] == [published.id]


def test_other_tenants_course_cannot_be_managed(client, organiser):
    foreign = CourseFactory(organisation=OrganisationFactory(), state=CourseState.DRAFT)
    for path in ("edit", "cancel"):
        assert client.get(f"/o/kongsberg/admin/courses/{foreign.id}/{path}").status_code == 404
    for path in ("publish", "copy", "delete"):
        assert client.post(f"/o/kongsberg/admin/courses/{foreign.id}/{path}").status_code == 404
    assert client.get(f"/o/{foreign.organisation.slug}/admin/courses").status_code == 404
    db.session.refresh(foreign)
    assert foreign.state == CourseState.DRAFT


def test_employee_cannot_manage_courses(client, login, kongsberg):
    login(member(kongsberg, Role.EMPLOYEE))
    assert client.get("/o/kongsberg/admin/courses").status_code == 403
    assert client.post("/o/kongsberg/admin/courses/new", data=course_form()).status_code == 403


def test_finish_past_courses_command(app, kongsberg):
    past = CourseFactory(organisation=kongsberg, sessions=[in_days(-3)])
    future = CourseFactory(organisation=kongsberg)
    result = app.test_cli_runner().invoke(args=["courses", "finish-past"])
    assert "1 course(s)" in result.output
    db.session.expire_all()
    assert (past.state, future.state) == (CourseState.FINISHED, CourseState.PUBLISHED)


# Description and attachments -------------------------------------------------------------

def test_description_markdown_is_rendered_and_sanitised(client, kongsberg):
    course = CourseFactory(organisation=kongsberg, description=(
        "# Overskrift\n\n**Viktig** <script>alert(1)</script>\n\n"
        "[trygg](https://example.org) [farlig](javascript:alert(1))\n\n"
        "<img src=x onerror=alert(1)>"))
    page = client.get(f"/courses/{course.id}").text
    assert "<h2>Overskrift</h2>" in page and "<strong>Viktig</strong>" in page
    assert '<a href="https://example.org" rel="noopener nofollow">trygg</a>' in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page  # shown as text
    assert 'href="javascript:' not in page
    assert "<img" not in page


@pytest.mark.parametrize(("filename", "content", "message"), [
    ("virus.exe", b"MZ...", "Denne filtypen er ikke tillatt"),
    ("program.pdf", b"MZ not a pdf", "stemmer ikke med navnet"),
    ("stor.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024), "høyst 10 MB"),
])
def test_bad_attachment_is_a_form_error(client, organiser, kongsberg, filename, content,
                                        message):
    course = CourseFactory(organisation=kongsberg)
    response = client.post(f"/o/kongsberg/admin/courses/{course.id}/attachments",
                           data={"file": (io.BytesIO(content), filename)},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.text
    db.session.refresh(course)
    assert course.attachments == []


def test_attachment_upload_download_and_delete(client, organiser, kongsberg, app):
    course = CourseFactory(organisation=kongsberg)
    response = client.post(f"/o/kongsberg/admin/courses/{course.id}/attachments",
                           data={"file": (io.BytesIO(b"PK\x03\x04 docx"), "Påmelding.docx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(course)
    [attachment] = course.attachments
    attachment_id = attachment.id
    download = client.get(f"/courses/{course.id}/attachments/{attachment.id}")
    assert download.data == b"PK\x03\x04 docx"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.mimetype.endswith("wordprocessingml.document")
    from frikomport.courses.attachments import stored_path

    path = stored_path(attachment)
    assert path.exists()
    client.post(f"/o/kongsberg/admin/courses/{course.id}/attachments/{attachment_id}/delete")
    assert not path.exists()
    assert client.get(f"/courses/{course.id}/attachments/{attachment_id}").status_code == 404


# Browsing ---------------------------------------------------------------------------------

def titles(page: str, candidates) -> set[str]:
    return {title for title in candidates if title in page}


def test_browse_filters(client, kongsberg):
    notodden = OrganisationFactory(slug="notodden")
    helse_k = CategoryFactory(organisation=kongsberg, name="Helse")
    helse_n = CategoryFactory(organisation=notodden, name="Helse")
    area = ServiceAreaFactory(organisation=kongsberg, name="Oppvekst")
    CourseFactory(organisation=kongsberg, title="Alfa", category=helse_k, service_area=area)
    CourseFactory(organisation=notodden, title="Beta", category=helse_n)
    CourseFactory(organisation=notodden, title="Gamma", capacity=5, confirmed_count=5)
    CourseFactory(organisation=kongsberg, title="Delta", sessions=[in_days(70)])
    CourseFactory(organisation=kongsberg, title="Omega", sessions=[in_days(-2)])  # past
    every = {"Alfa", "Beta", "Gamma", "Delta", "Omega"}

    assert titles(client.get("/courses/").text, every) == {"Alfa", "Beta", "Gamma", "Delta"}
    assert titles(client.get("/courses/?organisation=notodden").text, every) == {"Beta", "Gamma"}
    # A category name matches the same category across tenants.
    assert titles(client.get("/courses/?category=Helse").text, every) == {"Alfa", "Beta"}
    assert titles(client.get("/courses/?service_area=Oppvekst").text, every) == {"Alfa"}
    assert "Gamma" not in client.get("/courses/?free_seats=1").text
    month = (utcnow() + timedelta(days=70)).strftime("%Y-%m")
    assert "Delta" in client.get(f"/courses/?month={month}").text
    bad = client.get("/courses/?month=2026-13&page=abc")
    assert bad.status_code == 200 and "er ikke en måned" in bad.text


def test_pagination(client, kongsberg):
    for number in range(25):
        CourseFactory(organisation=kongsberg, title=f"Kurs {number:02d}",
                      sessions=[in_days(5 + number)])
    first = client.get("/courses/").text
    second = client.get("/courses/?page=2").text
    assert "25 kurs" in first
    assert "Kurs 00" in first and "Kurs 19" in first and "Kurs 20" not in first
    assert "Kurs 20" in second and "Kurs 24" in second and "Kurs 00" not in second
    assert client.get("/courses/?page=99").status_code == 200


def test_calendar_places_sessions_on_the_oslo_day(client, kongsberg):
    # 00:30 in Oslo is still the previous day in UTC.
    day = date(2027, 3, 10)
    start = local_to_utc(day, time(0, 30))
    CourseFactory(organisation=kongsberg, title="Nattkurs",
                  sessions=[(start, start + timedelta(hours=2))])
    page = client.get("/courses/calendar?month=2027-03").text
    cell = page.split('<span class="day-number">10</span>')[1].split("</td>")[0]
    assert "Nattkurs" in cell and "00:30" in cell
    assert "mars 2027" in page


def test_course_page_shows_seats_price_and_reserved_seats(client, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=20, confirmed_count=18,
                           fee_host_ore=150000, fee_region_ore=150000, fee_guest_ore=150000,
                           reserved_seats=5,
                           reserved_until=utcnow() + timedelta(days=3))
    page = client.get(f"/courses/{course.id}").text
    assert "2 plasser igjen" in page and "1\xa0500\xa0kr" in page
    assert "5 plasser er reservert for ansatte i Kongsberg kommune" in page
    full = CourseFactory(organisation=kongsberg, capacity=2, confirmed_count=2,
                         waitlist_count=3)
    assert "Fullt – venteliste (3)" in client.get(f"/courses/{full.id}").text


# Feeds --------------------------------------------------------------------------------

def test_course_ical_has_one_event_per_session(client, kongsberg):
    location = LocationFactory(organisation=kongsberg, name="Rådhuset", room="Sal 1")
    course = CourseFactory(organisation=kongsberg, title="Todagers", location=location,
                           contact_email="kurs@example.org",
                           sessions=[in_days(10), in_days(11)])
    response = client.get(f"/courses/{course.id}.ics")
    assert response.mimetype == "text/calendar"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Todagers (1/2)", "Todagers (2/2)"]
    assert events[0]["dtstart"].dt == course.sessions[0].starts_at
    assert "Rådhuset, Sal 1" in str(events[0]["location"])
    assert str(events[0]["status"]) == "CONFIRMED"
    assert str(events[0]["url"]) == f"https://kurs.example.org/courses/{course.id}"


def test_cancelled_course_stays_in_feed_as_cancelled(client, kongsberg):
    CourseFactory(organisation=kongsberg, title="Avlyst kurs", state=CourseState.CANCELLED)
    events = Calendar.from_ical(client.get("/o/kongsberg/courses.ics").data).walk("VEVENT")
    assert [(str(e["summary"]), str(e["status"])) for e in events] == [
        ("Avlyst kurs", "CANCELLED")]


def test_category_feed_contains_only_that_category(client, kongsberg):
    first, second = CategoryFactory(organisation=kongsberg), CategoryFactory(
        organisation=kongsberg)
    CourseFactory(organisation=kongsberg, title="I kategorien", category=first)
    CourseFactory(organisation=kongsberg, title="Utenfor", category=second)
    events = Calendar.from_ical(client.get(f"/o/kongsberg/categories/{first.id}.ics").data)
    assert [str(e["summary"]) for e in events.walk("VEVENT")] == ["I kategorien"]
    other = CategoryFactory(organisation=OrganisationFactory())
    assert client.get(f"/o/kongsberg/categories/{other.id}.ics").status_code == 404


def test_atom_feed_is_well_formed_with_newest_first(client, kongsberg):
    CourseFactory(organisation=kongsberg, title="Eldre <kurs>",
                  published_at=utcnow() - timedelta(days=2), description="**fet**")
    CourseFactory(organisation=kongsberg, title="Nyere & bedre")
    response = client.get("/courses/feed.atom")
    assert response.mimetype == "application/atom+xml"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(response.data)
    entries = root.findall("a:entry", ns)
    assert [e.find("a:title", ns).text for e in entries] == ["Nyere & bedre", "Eldre <kurs>"]
    assert entries[1].find("a:content", ns).text.strip() == "<p><strong>fet</strong></p>"


# Vocabulary ----------------------------------------------------------------------------

def test_admin_manages_vocabulary(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    assert client.post("/o/kongsberg/admin/categories", data={"name": "Ledelse"}
                       ).status_code == 302
    duplicate = client.post("/o/kongsberg/admin/categories", data={"name": "ledelse"})
    assert duplicate.status_code == 400 and "allerede i listen" in duplicate.text
    category = db.session.scalar(select(Category))
    course = CourseFactory(organisation=kongsberg, category=category)
    client.post(f"/o/kongsberg/admin/categories/{category.id}", data={"name": "Lederskap"})
    db.session.refresh(category)
    assert category.name == "Lederskap"
    client.post(f"/o/kongsberg/admin/categories/{category.id}/delete")
    db.session.refresh(course)
    assert course.category_id is None
    location = client.post("/o/kongsberg/admin/locations", data={
        "name": "Rådhuset", "address": "Kirkegata 1", "room": "Sal 2", "capacity": "80",
        "map_url": "https://kart.example.org/1"})
    assert location.status_code == 302
    bad = client.post("/o/kongsberg/admin/locations", data={"name": "X", "capacity": "-5"})
    assert bad.status_code == 400
    assert client.get("/o/kongsberg/admin/unknown-kind").status_code == 404


def test_organiser_and_outsiders_cannot_manage_vocabulary(client, login, kongsberg):
    category = CategoryFactory(organisation=kongsberg)
    login(member(kongsberg, Role.ORGANISER))
    assert client.post("/o/kongsberg/admin/categories", data={"name": "X"}).status_code == 403
    client.post("/logout")
    login(member(OrganisationFactory(), Role.ADMIN))
    assert client.post(f"/o/kongsberg/admin/categories/{category.id}/delete").status_code == 404
    assert db.session.get(Category, category.id) is not None


def test_service_validation_without_the_web(app, kongsberg):
    actor = member(kongsberg, Role.ORGANISER)
    start = utcnow() + timedelta(days=3)
    bad = services.CourseData(title="X", capacity=10, sessions=[(start, start)])
    from frikomport.errors import DomainError

    with pytest.raises(DomainError):
        services.create_course(db.session, actor, kongsberg, bad)
    with pytest.raises(DomainError):
        services.create_course(db.session, actor, kongsberg, services.CourseData(
            title="X", capacity=10, reserved_seats=2))  # reserved without an end date
    created = services.create_course(db.session, actor, kongsberg, services.CourseData(
        title="Y", capacity=10, visibility=Visibility.INTERNAL))
    assert created.state == CourseState.DRAFT


def test_an_edit_is_logged_with_the_names_of_the_fields_it_changed(client, organiser,
                                                                    kongsberg, login):
    """Names, not values: the log says what changed without copying course texts."""
    from frikomport.audit.models import AuditEvent

    client.post("/o/kongsberg/admin/courses/new", data=course_form())
    course = only_course()
    client.post(f"/o/kongsberg/admin/courses/{course.id}/edit",
                data=course_form(title="Førstehjelp for alle", capacity="25"))
    event = db.session.scalars(select(AuditEvent)
                               .where(AuditEvent.action == "course.updated")).one()
    assert event.details["fields"] == ["title", "capacity"]
    client.post("/logout")
    login(member(kongsberg, Role.ADMIN))
    log = client.get("/o/kongsberg/admin/audit").text
    assert "Antall plasser" in log or "Number of seats" in log
