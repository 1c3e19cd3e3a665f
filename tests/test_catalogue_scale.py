"""The catalogue pages stay cheap as the catalogue grows (issue 12): bounded counts and
months, filter choices that are cached without leaking between viewers, and (on
PostgreSQL) query plans that read course and course_session through their indexes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text

from frikomport.courses import choices, queries
from frikomport.courses.models import Course, CourseSession, CourseState, Visibility
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.timeutil import to_local
from tests.factories import CategoryFactory, CourseFactory, in_days, member


def test_the_count_stops_at_the_limit(client, kongsberg, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_LIMIT", 3)
    for _ in range(5):
        CourseFactory(organisation=kongsberg)
    page = client.get("/courses/").text
    assert "Mer enn 3 kurs" in page
    assert "data-list-capped" in page
    assert client.get("/courses/?page=9999").status_code == 200  # the last page, not 200k rows


def test_a_full_month_shows_the_first_sessions_and_says_so(client, kongsberg, monkeypatch):
    monkeypatch.setattr(queries, "CALENDAR_LIMIT", 2)
    for days in (3, 4, 5):
        CourseFactory(organisation=kongsberg, title=f"Kurs om {days} dager",
                      sessions=[in_days(days)])
    month = to_local(in_days(3)[0]).strftime("%Y-%m")
    crowded = client.get(f"/courses/calendar?month={month}").text
    assert "data-calendar-truncated" in crowded
    assert "Kurs om 3 dager" in crowded and "Kurs om 5 dager" not in crowded


def test_calendar_entries_name_the_course_and_organiser(client, kongsberg):
    course = CourseFactory(organisation=kongsberg, title="Arkivkurs", sessions=[in_days(3)])
    month = to_local(in_days(3)[0]).strftime("%Y-%m")
    page = client.get(f"/courses/calendar?month={month}").text
    assert "Arkivkurs" in page and "Kongsberg kommune" in page
    assert f"/courses/{course.id}" in page


def test_filter_choices_follow_new_courses_at_once(client, kongsberg):
    CourseFactory(organisation=kongsberg, category=CategoryFactory(organisation=kongsberg,
                                                                   name="Arkiv"))
    assert "Arkiv" in client.get("/courses/").text
    CourseFactory(organisation=kongsberg, category=CategoryFactory(organisation=kongsberg,
                                                                   name="Velferd"))
    assert "Velferd" in client.get("/courses/").text  # a newer updated_at: recomputed


def test_cached_choices_are_not_shared_between_viewers(app, client, login, kongsberg, notodden):
    internal = CategoryFactory(organisation=notodden, name="Internt for Notodden")
    CourseFactory(organisation=notodden, visibility=Visibility.INTERNAL, category=internal)
    CourseFactory(organisation=kongsberg)
    assert "Internt for Notodden" not in client.get("/courses/").text
    login(member(notodden))
    assert "Internt for Notodden" in client.get("/courses/").text
    client.post("/logout")
    assert "Internt for Notodden" not in client.get("/courses/").text


def test_viewers_who_see_the_same_courses_share_a_key(app, kongsberg, notodden):
    first, second = member(kongsberg), member(kongsberg)
    assert choices.viewer_key(first) == choices.viewer_key(second)
    assert choices.viewer_key(first) != choices.viewer_key(member(notodden))
    assert choices.viewer_key(None) != choices.viewer_key(first)


# PostgreSQL: the planner reads the catalogue through the indexes -----------------------

SEQ_SCAN = re.compile(r"Seq Scan on (course|course_session)\b")


def seed_catalogue(organisation_ids: list[int], count: int) -> None:
    """``count`` courses by direct inserts: mostly finished ones and drafts, as in a
    catalogue some years old, with a few hundred upcoming; two sessions each."""
    now = utcnow()
    courses, sessions = [], []
    for number in range(count):
        upcoming = number % 10 == 0
        start = now + timedelta(days=number % 300 if upcoming else -1 - number % 700)
        courses.append({
            "organisation_id": organisation_ids[number % len(organisation_ids)],
            "title": f"Kurs {number}", "capacity": 20, "updated_at": now,
            "visibility": (Visibility.PUBLIC, Visibility.REGION)[number % 2],
            "state": (CourseState.PUBLISHED if upcoming
                      else (CourseState.FINISHED, CourseState.DRAFT)[number % 3 == 0]),
            "starts_at": start, "ends_at": start + timedelta(days=7, hours=3)})
    ids = db.session.scalars(insert(Course).returning(Course.id), courses).all()
    for course_id, course in zip(ids, courses, strict=True):
        for week in range(2):
            starts = course["starts_at"] + timedelta(days=7 * week)
            sessions.append({"organisation_id": course["organisation_id"],
                             "course_id": course_id, "starts_at": starts,
                             "ends_at": starts + timedelta(hours=3)})
    db.session.execute(insert(CourseSession), sessions)
    db.session.commit()


def catalogue_statements(client, paths) -> list[tuple[str, dict]]:
    """The SELECTs the pages run that read course or course_session, with parameters."""
    seen = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "course" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for path in paths:
            assert client.get(path).status_code == 200, path
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_catalogue_queries_use_indexes_on_postgresql(app, client, kongsberg, notodden):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    seed_catalogue([kongsberg.id, notodden.id], 6000)
    with db.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    month = to_local(utcnow() + timedelta(days=40)).strftime("%Y-%m")
    paths = ["/courses/", "/courses/?page=3", f"/courses/?organisation=kongsberg&month={month}",
             f"/courses/calendar?month={month}", "/courses/calendar?month=2001-01", "/",
             "/o/kongsberg/"]
    statements = catalogue_statements(client, paths)
    assert len(statements) > len(paths)
    with db.engine.connect() as connection:
        for statement, parameters in statements:
            plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
                             .scalars())
            assert not SEQ_SCAN.search(plan), f"{statement}\n{plan}"
