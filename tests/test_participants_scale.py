"""The participants page of a big course: pages, search, counts per state, bulk actions,
a constant number of queries, and a streamed CSV with every registration."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, in_days, member
from tests.factories import register as add_registration
from tests.helpers import outbox, states
from tests.test_query_counts import counted_queries

ROW = re.compile(r'<tr role="row">\s*<th role="rowheader"')


def add_guests(course, count: int, state=S.CONFIRMED, prefix: str = "Gjest") -> None:
    """Many confirmed guests at once (straight into the database, counters kept)."""
    for number in range(count):
        db.session.add(Registration(
            organisation_id=course.organisation_id, course_id=course.id,
            name=f"{prefix} {number:04d}", email=f"{prefix.lower()}{number}@example.org",
            employer_name="Privat", state=state, email_confirmed_at=utcnow(),
            queued_at=utcnow() if state == S.WAITLISTED else None))
    course.confirmed_count += count if state == S.CONFIRMED else 0
    course.waitlist_count += count if state == S.WAITLISTED else 0
    db.session.commit()


def rows(page: str) -> int:
    """Rows of the participants table (the history table comes after it)."""
    return len(ROW.findall(page[:page.index('<details class="history">')]))


def base(course) -> str:
    return f"/o/kongsberg/admin/courses/{course.id}/participants"


def test_the_list_comes_in_pages(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=100)
    add_guests(course, 60)
    login(member(kongsberg, Role.ORGANISER))
    first = client.get(base(course)).text
    assert rows(first) == 50 and "Gjest 0000" in first and "Gjest 0050" not in first
    assert "Side 1 av 2" in first and 'rel="next"' in first
    second = client.get(f"{base(course)}?page=2").text
    assert rows(second) == 10 and "Gjest 0059" in second and 'rel="prev"' in second
    # Beyond the end: the last page; junk: the first.
    assert rows(client.get(f"{base(course)}?page=99999999999").text) == 10
    assert rows(client.get(f"{base(course)}?page=tre").text) == 50


def test_search_by_name_e_mail_or_employer_ignores_case(client, login, kongsberg, notodden):
    course = CourseFactory(organisation=kongsberg)
    add_registration(course, member(kongsberg, name="Åse Ødegård", email="ase@example.org"))
    add_registration(course, member(notodden, name="Per Hansen", email="per@hansen.no"))
    add_guests(course, 3)
    login(member(kongsberg, Role.ORGANISER))
    for text, found in (("åse ØDEGÅRD", "Åse Ødegård"), ("HANSEN.NO", "Per Hansen"),
                        ("notodden", "Per Hansen"), ("privat", "Gjest 0002")):
        page = client.get(base(course), query_string={"q": text}).text
        assert found in page, text
    page = client.get(base(course), query_string={"q": "notodden"}).text
    assert rows(page) == 1 and "Åse Ødegård" not in page
    nobody = client.get(base(course), query_string={"q": "100%_"}).text  # LIKE is escaped
    assert rows(nobody) == 0


def test_counts_per_state_come_from_one_group_by(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=5)
    add_guests(course, 5)
    add_guests(course, 3, S.WAITLISTED, prefix="Venter")
    add_guests(course, 2, S.CANCELLED, prefix="Borte")
    login(member(kongsberg, Role.ORGANISER))
    with counted_queries() as statements:
        page = client.get(base(course)).text
    assert len([s for s in statements if "GROUP BY" in s]) == 1
    assert not [s for s in statements if "FROM registration " in s and "GROUP BY" not in s
                and "LIMIT" not in s and "count(" not in s]  # no unbounded row query
    for label in ("Alle (10)", "Bekreftet (5)", "Venteliste (3)", "Avmeldt (2)"):
        assert label in page
    waiting = client.get(f"{base(course)}?state=waitlisted").text
    assert rows(waiting) == 3 and "Venter 0000" in waiting and "Gjest 0000" not in waiting
    searched = client.get(base(course), query_string={"q": "venter 0001"}).text
    assert "Alle (1)" in searched and "Venteliste (1)" in searched


def test_the_page_runs_as_many_queries_for_200_as_for_10(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=300)
    organiser = member(kongsberg, Role.ORGANISER)
    add_guests(course, 10)
    login(organiser)
    with counted_queries() as small:
        client.get(base(course))
    add_guests(course, 190, prefix="Flere")
    add_registration(course, member(kongsberg))  # a member (with a user) too
    with counted_queries() as large:
        page = client.get(base(course)).text
    assert len(small) == len(large) <= 10 and rows(page) == 50
    assert not [s for s in large if "user_account" in s and "login_session" not in s
                and "registration_event" not in s]  # no user is loaded for the rows


def test_bulk_attendance_changes_the_allowed_and_reports_the_refused(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=2)
    a = add_registration(course, member(kongsberg, name="Anne A"))
    b = add_registration(course, member(kongsberg, name="Bjørn B"))
    waiting = add_registration(course, member(kongsberg, name="Vera Venter"), S.WAITLISTED)
    login(member(kongsberg, Role.ORGANISER))
    page = client.post(f"{base(course)}/bulk/attended", follow_redirects=True, data={
        "registration": [a.id, b.id, waiting.id],
        "state": "seated", "page": "1"})
    assert [state for _email, state in states(course)] == [S.ATTENDED, S.ATTENDED,
                                                           S.WAITLISTED]
    flashed = page.text[page.text.index("flash-messages"):page.text.index("<h1")]
    assert "Vera Venter" in flashed and "Oppmøte kan bare registreres" in flashed
    assert rows(page.text) == 2 and page.request.args["state"] == "seated"
    client.post(f"{base(course)}/bulk/no-show", data={"registration": [b.id]})
    assert states(course)[1][1] == S.NO_SHOW


def test_bulk_move_up_follows_the_queue_and_stops_when_seats_run_out(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=1)
    first = add_registration(course, member(kongsberg), S.WAITLISTED)
    second = add_registration(course, member(kongsberg), S.WAITLISTED)
    login(member(kongsberg, Role.ORGANISER))
    client.post(f"{base(course)}/bulk/promote",
                data={"registration": [second.id, first.id]})
    assert [state for _email, state in states(course)] == [S.CONFIRMED, S.WAITLISTED]
    assert len(outbox(first.email)) == 1 and outbox(second.email) == []
    db.session.refresh(course)
    assert (course.confirmed_count, course.waitlist_count) == (1, 1)


def test_mark_everyone_still_confirmed_as_attended(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, sessions=[in_days(-1)])
    add_guests(course, 3)
    absent = add_registration(course, member(kongsberg), S.NO_SHOW)
    waiting = add_registration(course, member(kongsberg), S.WAITLISTED)
    login(member(kongsberg, Role.ORGANISER))
    assert f'formaction="{base(course)}/all-attended"' in client.get(base(course)).text
    client.post(f"{base(course)}/all-attended")
    by_email = dict(states(course))
    assert [by_email[f"gjest{n}@example.org"] for n in range(3)] == [S.ATTENDED] * 3
    assert by_email[absent.email] == S.NO_SHOW and by_email[waiting.email] == S.WAITLISTED


def test_marking_everyone_costs_the_same_queries_for_200_as_for_10(client, login, kongsberg):
    """The course is locked once and the rows read once. The history rows, the
    certificates and the e-mails with them are inserted in one batch each on PostgreSQL;
    SQLite cannot say which id each row of a multi-row INSERT got, so there the ORM
    inserts them one by one (cheap, in-process)."""
    counts = []
    login(member(kongsberg, Role.ORGANISER))
    for size in (10, 200):
        course = CourseFactory(organisation=kongsberg, capacity=size, sessions=[in_days(-1)])
        add_guests(course, size, prefix=f"Stor{size}")
        with counted_queries() as statements:
            client.post(f"{base(course)}/all-attended")
        if db.engine.dialect.name == "sqlite":
            statements = [s for s in statements if not s.startswith(
                ("INSERT INTO registration_event", "INSERT INTO certificate",
                 "INSERT INTO outbox_message"))]
        counts.append(len(statements))
        assert [state for _email, state in states(course)] == [S.ATTENDED] * size
    assert counts[0] == counts[1] <= 20, counts


def test_bulk_actions_are_tenant_scoped(client, login, kongsberg, notodden):
    course = CourseFactory(organisation=kongsberg)
    seated = add_registration(course, member(kongsberg))
    login(member(notodden, Role.ORGANISER))
    for path in (f"{base(course)}/bulk/attended", f"{base(course)}/all-attended"):
        assert client.post(path, data={"registration": [seated.id]}).status_code == 404
    own = f"/o/notodden/admin/courses/{course.id}/participants/bulk/attended"
    assert client.post(own, data={"registration": [seated.id]}).status_code == 404
    assert states(course)[0][1] == S.CONFIRMED


def test_a_row_action_returns_to_the_same_view(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    seated = add_registration(course, member(kongsberg))
    login(member(kongsberg, Role.ORGANISER))
    response = client.post(f"{base(course)}/{seated.id}/attended",
                           data={"q": "x", "state": "confirmed", "page": "2"})
    assert response.headers["Location"].endswith("?q=x&page=2&state=confirmed")
    assert states(course)[0][1] == S.ATTENDED


def test_the_csv_is_streamed_and_lists_everyone(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, capacity=1200)
    add_guests(course, 1100)
    add_guests(course, 20, S.WAITLISTED, prefix="Venter")
    organiser = member(kongsberg, Role.ORGANISER)
    login(organiser)
    response = client.get(f"{base(course)}.csv")
    assert response.is_streamed and "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:2] == ["Navn", "E-post"] and len(lines) == 1 + 1120
    assert lines[1][0] == "Gjest 0000" and lines[1100][0] == "Gjest 1099"
    status = lines[0].index("Status")
    assert lines[-1][0] == "Venter 0019" and lines[-1][status] == "Venteliste"
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "participants.downloaded"))
    assert event.actor_id == organiser.id and event.details["rows"] == 1120
