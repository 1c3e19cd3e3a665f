"""`flask demo seed`, what each demo role sees after logging in, and the year of history
the seed writes (consistent with what the services would have produced)."""

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from frikomport.accounts.models import User
from frikomport.audit.models import AuditEvent
from frikomport.billing import fees
from frikomport.billing.models import InvoiceLine
from frikomport.competence import external, records
from frikomport.competence.matrix import unit_matrix
from frikomport.competence.models import (
    Certificate,
    Competence,
    CompetenceRecord,
    CourseCompetence,
    RecordSource,
    RecordStatus,
    Requirement,
)
from frikomport.competence.records import Standing
from frikomport.courses.models import Course, CourseState
from frikomport.db import utcnow
from frikomport.demo.catalogue import HISTORY_DAYS
from frikomport.demo.courses import FULL_COURSE
from frikomport.demo.seed import DEMO_PASSWORD, MUNICIPALITIES, seed
from frikomport.extensions import db
from frikomport.housekeeping import run_all
from frikomport.notifications.models import OutboxMessage
from frikomport.permissions import led_unit_ids
from frikomport.registrations.models import (
    SEATED_STATES,
    Registration,
    RegistrationEvent,
    RegistrationState,
)
from frikomport.search import indexer
from frikomport.search.interface import SearchQuery, Viewer
from frikomport.search.models import SearchJob
from frikomport.search.whoosh_backend import WhooshBackend
from frikomport.tenancy.models import Membership, Organisation
from frikomport.timeutil import to_local
from frikomport.units.models import Unit

State = RegistrationState


@pytest.fixture
def seeded(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result.output


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_loads_the_kongsberg_region_and_prints_accounts(seeded):
    names = set(db.session.scalars(select(Organisation.name)))
    assert names == {name for _slug, name, _address, _phone in MUNICIPALITIES}
    assert {"Øvre Eiker kommune", "Nore og Uvdal kommune", "Tinn kommune"} <= names
    assert DEMO_PASSWORD in seeded
    assert "kari.nordmann@kongsberg.demo.frikomport.example.org" in seeded
    assert seeded.count("site admin") == 1


def test_seed_is_idempotent(seeded, app):
    models = (Organisation, User, Membership, Course, Registration, RegistrationEvent,
              InvoiceLine, OutboxMessage, SearchJob, AuditEvent, Competence,
              CourseCompetence, Unit, Requirement, CompetenceRecord, Certificate)
    before = [count(model) for model in models]
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    db.session.expire_all()
    assert [count(model) for model in models] == before
    seed(db.session, now=utcnow() + timedelta(days=40))  # nor on another day
    db.session.commit()
    assert [count(model) for model in models] == before
    # 33 named accounts and 189 more employees, each with one membership (the site
    # administrator has none).
    assert before[:3] == [8, 222, 221]


def test_seed_refuses_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and count(Organisation) == 0


def demo_login(client, email):
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.text
    return client.get("/").text


def test_each_demo_role_sees_what_it_may_do(seeded, client):
    domain = "demo.frikomport.example.org"

    page = demo_login(client, f"ingrid.lie@kongsberg.{domain}")  # employee
    assert "Administrer Kongsberg kommune" not in page
    assert "Nettstedsadministrasjon" not in page
    assert client.get("/o/kongsberg/admin/members").status_code == 403
    client.post("/logout")

    page = demo_login(client, f"ola.haugen@kongsberg.{domain}")  # organiser
    assert "Administrer Kongsberg kommune" in page
    dashboard = client.get("/o/kongsberg/admin/").text
    assert "Medlemmer" in dashboard and "Innstillinger" not in dashboard
    assert client.get("/o/notodden/admin/").status_code == 404
    client.post("/logout")

    page = demo_login(client, f"kari.nordmann@kongsberg.{domain}")  # admin
    dashboard = client.get("/o/kongsberg/admin/").text
    assert "Innstillinger" in dashboard and "Endringslogg" in dashboard
    assert "Inviter en person" in client.get("/o/kongsberg/admin/members").text
    assert client.get("/admin/").status_code == 404
    client.post("/logout")

    page = demo_login(client, f"driftsansvarlig@{domain}")  # site admin
    assert "Nettstedsadministrasjon" in page
    assert "Tinn kommune" in client.get("/admin/").text


def test_seed_fills_one_course_with_a_waiting_list(seeded, app):
    course = db.session.scalar(select(Course).where(Course.title == FULL_COURSE))
    assert (course.capacity, course.confirmed_count, course.waitlist_count) == (12, 12, 4)
    published = db.session.scalar(select(func.count()).select_from(Course).where(
        Course.state == CourseState.PUBLISHED))
    assert published == 14
    mails = count(OutboxMessage)
    app.test_cli_runner().invoke(args=["demo", "seed"])
    db.session.expire_all()
    assert (course.confirmed_count, course.waitlist_count, count(OutboxMessage)) == (12, 4, mails)


# A year of history ---------------------------------------------------------------------------

def history():
    """The finished (past) demo courses and their registrations."""
    courses = db.session.scalars(select(Course).where(Course.state == CourseState.FINISHED)
                                 .order_by(Course.id)).all()
    registrations = db.session.scalars(select(Registration).join(Registration.course).where(
        Course.state == CourseState.FINISHED).order_by(Registration.id)).all()
    return courses, registrations


def test_history_counters_and_events_follow_the_engine(seeded):
    courses, registrations = history()
    assert 110 <= len(courses) <= 130 and len(registrations) > 1500
    by_course = {course.id: [] for course in courses}
    for registration in registrations:
        by_course[registration.course_id].append(registration)
    for course in courses:
        states = [r.state for r in by_course[course.id]]
        assert course.confirmed_count == sum(s in SEATED_STATES for s in states), course
        assert course.waitlist_count == states.count(State.WAITLISTED), course
        if course.waitlist_count:  # nobody waits while there is a free seat
            assert course.confirmed_count == course.capacity, course
        assert course.ends_at < utcnow() and course.sessions
        assert (course.starts_at, course.ends_at) == (course.sessions[0].starts_at,
                                                      course.sessions[-1].ends_at)
        people = [r.user_id or r.email for r in by_course[course.id]]
        assert len(people) == len(set(people)), course
    for registration in registrations:
        events = registration.events
        assert events[0].from_state is None
        assert events[-1].to_state == registration.state.value
        assert all(a.to_state == b.from_state for a, b in pairwise(events))
        assert all(a.created_at <= b.created_at for a, b in pairwise(events))
        assert registration.created_at < registration.course.starts_at
        if registration.user is not None:
            assert registration.employer_organisation_id == registration.user.home_organisation_id
        else:
            assert registration.email_confirmed_at is not None


def test_history_fees_follow_the_fee_rule(seeded):
    courses, registrations = history()
    for registration in registrations:
        course = registration.course
        had_seat = registration.state in SEATED_STATES or any(
            event.to_state == "confirmed" for event in registration.events)
        if not had_seat:
            assert (registration.fee_ore, registration.fee_kind) == (None, None)
            continue
        kind = fees.kind_for(course, registration.employer_organisation_id,
                             guest=registration.user_id is None)
        assert (registration.fee_kind, registration.fee_ore) == (kind, fees.fee_of(course, kind))
        if registration.charged_cancellation:
            cancelled = registration.events[-1]
            assert registration.state == State.CANCELLED
            assert cancelled.note in ("cancelled by the participant",
                                      "cancelled with the link in the e-mail")
            assert registration.fee_ore and course.free_cancellation_until
            assert cancelled.created_at >= course.free_cancellation_until
    for course in courses:
        assert (course.fee_region_ore, course.fee_guest_ore) == (
            course.fee_host_ore * 5 // 4, course.fee_host_ore * 3 // 2)


def test_history_has_every_outcome(seeded):
    courses, registrations = history()
    states = {state: [r for r in registrations if r.state == state] for state in State}
    assert 0 < len(states[State.NO_SHOW]) < len(states[State.ATTENDED]) / 5
    cancelled = states[State.CANCELLED]
    assert any(r.fee_ore is not None for r in cancelled)  # gave up a seat
    assert any(r.charged_cancellation for r in cancelled)  # late, still charged
    assert any(r.events[-1].note == "cancelled by the organiser" for r in cancelled)
    waiting_only = [r for r in registrations if r.queued_at and r.fee_ore is None]
    assert {r.state for r in waiting_only} == {State.WAITLISTED, State.CANCELLED}
    assert any(r.queued_at and r.fee_ore is not None for r in registrations)  # promoted
    assert not states[State.PENDING] and not states[State.REJECTED]
    assert any(r.user_id is None for r in registrations)  # guests
    assert any(r.employer_organisation_id not in (None, r.organisation_id)
               for r in registrations)  # from another municipality
    assert sum(r.employer_organisation_id == r.organisation_id
               for r in registrations) > len(registrations) / 2
    assert any(c.is_free for c in courses) and any(not c.is_free for c in courses)
    assert any(not c.charge_no_shows for c in courses if not c.is_free)
    assert any(fees.is_charged(r) for r in states[State.NO_SHOW])
    assert len({c.organisation_id for c in courses}) == 8
    assert {len(c.sessions) for c in courses} == {1, 2, 3}


def test_history_is_invoiced_except_the_last_two_months(seeded):
    _courses, registrations = history()
    lines = db.session.scalars(select(InvoiceLine)).all()
    assert len(lines) > 300
    invoiced = {line.registration_id: line for line in lines}
    two_months_ago = utcnow() - timedelta(days=60)
    for line in lines:
        registration = db.session.get(Registration, line.registration_id)
        assert fees.is_charged(registration)
        assert line.amount_ore == registration.fee_ore
        assert line.organisation_id == registration.organisation_id
        assert line.buyer_organisation_id == (registration.employer_organisation_id
                                              if registration.user_id else None)
        assert line.course_starts_at < two_months_ago
        assert line.course_starts_at < line.invoiced_at < utcnow()
        assert re.fullmatch(r"20\d\d-\d{4}", line.invoice_number)
        assert db.session.get(User, line.invoiced_by_id).role_in(line.organisation_id)
    buyers = {}
    for line in lines:  # one buyer per invoice
        key = (line.organisation_id, line.invoice_number)
        assert buyers.setdefault(key, line.buyer_name) == line.buyer_name
    charged = [r for r in registrations if fees.is_charged(r)]
    left = [r for r in charged if r.id not in invoiced]
    assert left and all(r.course.starts_at > two_months_ago - timedelta(days=31)
                        for r in left)
    assert len(invoiced) == len(lines) == len(charged) - len(left)


def test_history_spans_this_year_and_last(app):
    """Seeded as of 10 March next year (a fixed day: the data is the same every run)."""
    now = datetime(datetime.now(UTC).year + 1, 3, 10, 11, tzinfo=UTC)
    seed(db.session, now=now)
    db.session.commit()
    courses, _registrations = history()
    years = {to_local(c.starts_at).year for c in courses}
    assert years == {now.year - 2, now.year - 1, now.year}
    months = {to_local(c.starts_at).strftime("%Y-%m") for c in courses}
    # Last year whole (but July and the Christmas days) and this year so far: the
    # statistics can compare each month with the same month a year earlier.
    assert {f"{now.year - 1}-{m:02}" for m in range(1, 13) if m != 7} <= months
    assert {f"{now.year - 2}-{m:02}" for m in range(6, 13) if m != 7} <= months
    assert not any(to_local(s.starts_at).month == 7 for c in courses for s in c.sessions)
    assert min(c.starts_at for c in courses) >= now - timedelta(days=HISTORY_DAYS + 1)
    assert max(c.ends_at for c in courses) < now


def test_seed_leaves_nothing_for_housekeeping_search_or_outbox(seeded, tmp_path):
    """The history is written as rows, not through the services: the portal's own upkeep
    finds nothing to finish, purge or send, and the search index gets exactly the
    courses that are open (finished ones are not indexed)."""
    assert set(run_all(db.session).values()) == {0}
    open_registrations = db.session.scalars(select(Registration).join(Registration.course)
                                            .where(Course.state != CourseState.FINISHED)).all()
    mails = db.session.scalars(select(OutboxMessage.to_address)).all()
    assert sorted(mails) == sorted(r.email for r in open_registrations)
    backend = WhooshBackend(tmp_path / "index")
    backend.rebuild([])
    indexer.process_jobs(db.session, backend)
    published = set(db.session.scalars(select(Course.id).where(
        Course.state == CourseState.PUBLISHED)))
    results = backend.search(SearchQuery(text="", viewer=Viewer(True, True), per_page=100,
                                         include_past=True))
    assert {hit.course_id for hit in results.hits} == published and len(published) == 14


# Competence ----------------------------------------------------------------------------------

DOMAIN = "demo.frikomport.example.org"


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_history_attendance_gave_the_records_and_certificates_attending_gives(seeded):
    """What the attendance signal would have made: a certificate per attended
    registration, and per member a record of each competence the course grants, valid
    from its last day for the competence's validity; nothing for other outcomes."""
    _courses, registrations = history()
    grants = {}
    for grant in db.session.scalars(select(CourseCompetence)):
        grants.setdefault(grant.course_id, []).append(grant.competence)
    certificates = {c.registration_id: c for c in db.session.scalars(select(Certificate))}
    course_records = {}
    for record in db.session.scalars(select(CompetenceRecord).where(
            CompetenceRecord.source == RecordSource.COURSE)):
        course_records.setdefault(record.registration_id, []).append(record)
    attended = [r for r in registrations if r.state == State.ATTENDED]
    assert set(certificates) == {r.id for r in attended}
    assert set(course_records) == {r.id for r in attended
                                   if r.user_id and grants.get(r.course_id)}
    for registration in attended:
        course, certificate = registration.course, certificates[registration.id]
        granted = grants.get(course.id, [])
        assert (certificate.user_id, certificate.name) == (registration.user_id,
                                                           registration.name)
        assert certificate.competences == "\n".join(sorted(c.name for c in granted))
        last_day = records.course_last_day(course)
        assert certificate.last_day == last_day
        made = course_records.get(registration.id, [])
        assert sorted((r.user_id, r.competence_id, r.valid_from, r.valid_until) for r in made) \
            == sorted((registration.user_id, c.id, last_day,
                       records.valid_until_for(c, last_day)) for c in granted
                      if registration.user_id)
    assert len(course_records) > 300 and any(grants.values())


def test_the_home_care_unit_shows_every_standing_to_its_leader(seeded):
    """Per Bakke (printed, in the README) leads Kongsberg's home care: its matrix has
    people valid, expiring within 90 days, expired and missing."""
    leader = person(f"per.bakke@kongsberg.{DOMAIN}")
    unit = db.session.scalar(select(Unit).where(Unit.name == "Hjemmetjenesten"))
    assert led_unit_ids(leader) == {unit.id}
    matrix = unit_matrix(db.session, leader, unit)
    standings = {cell.standing for row in matrix.rows for cell in row.cells if cell.required}
    assert standings == set(Standing)
    names = {row.name for row in matrix.rows}
    assert {"Ingrid Lie", "Per Bakke"} <= names and len(names) > 4


def test_every_organisation_has_units_with_leaders_people_and_requirements(seeded):
    for organisation in db.session.scalars(select(Organisation)):
        units = db.session.scalars(select(Unit).where(
            Unit.organisation_id == organisation.id)).all()
        assert len(units) >= 3, organisation.slug
        assert all(unit.leaders for unit in units)
        placed = db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.organisation_id == organisation.id, Membership.unit_id.is_not(None)))
        assert placed > 10, organisation.slug
        by_title = db.session.scalar(select(func.count()).select_from(Requirement).where(
            Requirement.organisation_id == organisation.id, Requirement.job_title != ""))
        assert by_title > 0, organisation.slug
    own = db.session.scalars(select(Competence.name).where(
        Competence.organisation_id.is_not(None))).all()
    assert len(own) == 2 and db.session.scalar(select(func.count()).select_from(Competence)
                                                .where(Competence.organisation_id.is_(None))) >= 8


def test_certificates_from_elsewhere_await_their_leaders_with_a_pdf(seeded):
    kongsberg = db.session.scalar(select(Organisation).where(Organisation.slug == "kongsberg"))
    [waiting] = external.pending(db.session, person(f"per.bakke@kongsberg.{DOMAIN}"),
                                 kongsberg)
    assert waiting.record.user.name == "Ingrid Lie" and waiting.unit_name == "Hjemmetjenesten"
    externals = db.session.scalars(select(CompetenceRecord).where(
        CompetenceRecord.source == RecordSource.EXTERNAL)).all()
    assert {r.status for r in externals} == {RecordStatus.PENDING, RecordStatus.APPROVED}
    assert sum(r.status == RecordStatus.PENDING for r in externals) == 2
    for record in externals:
        assert external.stored_path(record).read_bytes().startswith(b"%PDF")
        assert (record.decided_by_id is not None) == (record.status == RecordStatus.APPROVED)
