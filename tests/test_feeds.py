"""Calendar and Atom feeds are bounded and conditional (issue 12): they cover a window
of months around today, at most FEED_MAX_EVENTS events, and answer 304 Not Modified to
a client that has the current version, before anything is built."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import update

from config import ConfigError, load_config
from frikomport.courses.models import Course, CourseSession
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.tenancy.models import Role
from tests.factories import CategoryFactory, CourseFactory, UserFactory, in_days, member, register
from tests.test_query_counts import add_courses, counted_queries

TOKEN = "personal-calendar-token-0123456789abcdef"
ATOM = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture
def me(kongsberg):
    return UserFactory(calendar_token=TOKEN, home_organisation=kongsberg)


@pytest.fixture
def category(kongsberg):
    return CategoryFactory(organisation=kongsberg)


def feed_paths(category) -> dict[str, str]:
    return {"organisation": "/o/kongsberg/courses.ics",
            "category": f"/o/kongsberg/categories/{category.id}.ics",
            "personal": f"/me/calendar/{TOKEN}.ics",
            "atom": "/courses/feed.atom"}


def titles(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    if response.mimetype == "application/atom+xml":
        root = ET.fromstring(response.data)
        return [e.find("a:title", ATOM).text for e in root.findall("a:entry", ATOM)]
    return [str(e["summary"]) for e in Calendar.from_ical(response.data).walk("VEVENT")]


def course(organisation, category, me, title: str, sessions, **fields) -> Course:
    """A public course in the category that ``me`` is registered for (every feed)."""
    created = CourseFactory(organisation=organisation, category=category, title=title,
                            sessions=sessions, **fields)
    register(created, me)
    return created


@pytest.mark.parametrize("feed", ["organisation", "category", "personal", "atom"])
def test_feeds_cover_months_back_to_months_ahead(client, kongsberg, category, me, feed):
    course(kongsberg, category, me, "Neste måned", [in_days(30)])
    course(kongsberg, category, me, "Om to år", [in_days(730)])
    course(kongsberg, category, me, "For et år siden", [in_days(-365)])
    assert titles(client.get(feed_paths(category)[feed])) == ["Neste måned"]


def test_the_window_is_configurable(app_factory, kongsberg, category, me):
    course(kongsberg, category, me, "Om to måneder", [in_days(60)])
    course(kongsberg, category, me, "For to måneder siden", [in_days(-60)])
    narrow = app_factory(FEED_MONTHS_BACK=1, FEED_MONTHS_AHEAD=1).test_client()
    for path in feed_paths(category).values():
        assert titles(narrow.get(path)) == [], path


def test_a_long_course_shows_only_its_sessions_in_the_window(client, kongsberg, category, me):
    course(kongsberg, category, me, "Langt kurs", [in_days(-200), in_days(10), in_days(800)])
    for feed in ("organisation", "category", "personal"):
        assert titles(client.get(feed_paths(category)[feed])) == ["Langt kurs (2/3)"]


def test_the_number_of_events_is_capped(app_factory, kongsberg, category, me):
    for number in range(4):
        course(kongsberg, category, me, f"Kurs {number}", [in_days(10 + number, 9),
                                                            in_days(10 + number, 13)])
    capped = app_factory(FEED_MAX_EVENTS=3).test_client()
    for feed in ("organisation", "category", "personal"):
        assert titles(capped.get(feed_paths(category)[feed])) == [
            "Kurs 0 (1/2)", "Kurs 0 (2/2)", "Kurs 1 (1/2)"]


@pytest.mark.parametrize("feed", ["organisation", "category", "personal", "atom"])
def test_not_modified_for_the_etag_and_for_if_modified_since(client, kongsberg, category, me,
                                                             feed):
    course(kongsberg, category, me, "Kurset", [in_days(10)])
    path = feed_paths(category)[feed]
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    assert first.content_type in ("text/calendar; charset=utf-8",
                                  "application/atom+xml; charset=utf-8")
    by_etag = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert by_etag.status_code == 304 and by_etag.data == b""
    assert by_etag.headers["ETag"] == first.headers["ETag"]
    assert by_etag.headers["Cache-Control"] == first.headers["Cache-Control"]
    by_date = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert by_date.status_code == 304
    long_ago = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert client.get(path, headers={"If-Modified-Since": long_ago}).status_code == 200
    assert client.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200


@pytest.mark.parametrize("feed", ["organisation", "category", "personal", "atom"])
def test_a_changed_course_changes_the_etag(client, kongsberg, category, me, feed):
    changed = course(kongsberg, category, me, "Før", [in_days(10)])
    path = feed_paths(category)[feed]
    etag = client.get(path).headers["ETag"]
    changed.title = "Etter"
    db.session.commit()
    response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 200 and titles(response) == ["Etter"]
    assert response.headers["ETag"] != etag


def test_new_sessions_change_the_etag_when_the_course_row_does_not(client, kongsberg,
                                                                    category, me):
    """Editing a course replaces its sessions; its start and end may stay the same."""
    changed = course(kongsberg, category, me, "Tre dager", [in_days(10), in_days(11),
                                                            in_days(12)])
    path = feed_paths(category)["organisation"]
    first = client.get(path)
    middle = changed.sessions[1]
    db.session.delete(middle)
    db.session.add(CourseSession(organisation_id=kongsberg.id, course_id=changed.id,
                                 starts_at=middle.starts_at + timedelta(hours=1),
                                 ends_at=middle.ends_at + timedelta(hours=1)))
    db.session.commit()
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_a_cancelled_registration_leaves_the_personal_feed(client, kongsberg, category, me):
    kept = course(kongsberg, category, me, "Beholdt", [in_days(10)])
    course(kongsberg, category, me, "Avmeldt", [in_days(11)])
    path = feed_paths(category)["personal"]
    etag = client.get(path).headers["ETag"]
    db.session.execute(update(Registration).where(Registration.course_id != kept.id)
                       .values(state=RegistrationState.CANCELLED, updated_at=utcnow()))
    db.session.commit()
    response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 200 and titles(response) == ["Beholdt"]


def test_public_feeds_may_be_cached_briefly_the_personal_feed_never(client, login, kongsberg,
                                                                     category, me):
    course(kongsberg, category, me, "Kurset", [in_days(10)])
    paths = feed_paths(category)
    for feed in ("organisation", "category", "atom"):
        cache = client.get(paths[feed]).headers["Cache-Control"]
        assert "public" in cache and "max-age=300" in cache, feed
    personal = client.get(paths["personal"]).headers["Cache-Control"]
    assert "private" in personal and "no-store" in personal and "public" not in personal
    # A logged-in viewer may see internal courses: no shared cache may keep that copy.
    login(member(kongsberg, Role.EMPLOYEE))
    cache = client.get(paths["organisation"]).headers["Cache-Control"]
    assert "private" in cache and "public" not in cache


def test_a_single_course_calendar_is_conditional_too(client, kongsberg, category, me):
    single = course(kongsberg, category, me, "Enkelt", [in_days(400), in_days(900)])
    first = client.get(f"/courses/{single.id}.ics")
    assert titles(first) == ["Enkelt (1/2)", "Enkelt (2/2)"]  # no window for one course
    again = client.get(f"/courses/{single.id}.ics",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("logged_in", [False, True])
def test_the_organisation_feed_runs_the_same_queries_for_10_and_60_courses(
        client, login, kongsberg, logged_in):
    if logged_in:
        login(member(kongsberg, Role.EMPLOYEE))
    path = "/o/kongsberg/courses.ics"

    def counted(headers=None) -> tuple[int, int]:
        with counted_queries() as statements:
            response = client.get(path, headers=headers or {})
        return response.status_code, len(statements)

    add_courses(kongsberg, 10)
    small = counted()
    add_courses(kongsberg, 50)
    large = counted()
    assert small == large
    assert large[1] <= (6 if logged_in else 4)
    etag = client.get(path).headers["ETag"]
    not_modified = counted({"If-None-Match": etag})
    # The 304 costs the tenant lookup and one aggregate: no course or session is loaded.
    assert not_modified == (304, large[1] - 2)


def test_a_poll_without_etag_gets_the_built_feed_until_a_course_changes(client, kongsberg):
    """The body is kept per process by ETag: a second poll only runs the version query."""
    path = "/o/kongsberg/courses.ics"
    changed = CourseFactory(organisation=kongsberg, title="Før", sessions=[in_days(10)])
    with counted_queries() as first:
        assert titles(client.get(path)) == ["Før"]
    with counted_queries() as second:
        assert titles(client.get(path)) == ["Før"]
    assert len(second) == len(first) - 2  # no courses, no sessions loaded
    changed.title = "Etter"
    db.session.commit()
    assert titles(client.get(path)) == ["Etter"]


def test_feed_settings_are_read_from_the_environment():
    settings = load_config({"DATABASE_URL": "sqlite://", "FEED_MONTHS_BACK": "1",
                            "FEED_MONTHS_AHEAD": "6", "FEED_MAX_EVENTS": "200"})
    assert (settings["FEED_MONTHS_BACK"], settings["FEED_MONTHS_AHEAD"],
            settings["FEED_MAX_EVENTS"]) == (1, 6, 200)
    defaults = load_config({"DATABASE_URL": "sqlite://"})
    assert (defaults["FEED_MONTHS_BACK"], defaults["FEED_MONTHS_AHEAD"]) == (3, 18)
    with pytest.raises(ConfigError):
        load_config({"DATABASE_URL": "sqlite://", "FEED_MONTHS_AHEAD": "a year"})
