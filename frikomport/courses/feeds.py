"""iCalendar feeds: one VEVENT per course session (icalendar library).

Stored text goes through :func:`single_line` / :func:`clean_text` first: RFC 5545 allows
no control characters, and a calendar client rejects the whole feed for one of them.

Feeds of many courses (organisation, category, personal) pass a :class:`FeedWindow`
(:mod:`frikomport.courses.feed_window`): sessions outside it are left out and the
number of events is capped, so a poll costs the same whatever the history holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import current_app, url_for
from icalendar import Calendar, Event, vText

from frikomport.courses.models import Course, CourseSession, CourseState
from frikomport.db import utcnow
from frikomport.inputs import clean_text, single_line

if TYPE_CHECKING:
    from frikomport.courses.feed_window import FeedWindow


def _uid_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "frikomport.invalid"


def _detail_urls(course_ids: Iterable[int]) -> dict[int, str]:
    """Absolute course links from BASE_URL (as :func:`frikomport.urls.external_url`),
    built in one request context: a context per link cost a third of a feed's time."""
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return {course_id: url_for("courses.detail", course_id=course_id, _external=True)
                for course_id in course_ids}


def _location(course: Course) -> str:
    if course.location is None:
        return ""
    parts = [course.location.name, course.location.room, course.location.address]
    return single_line(", ".join(p for p in parts if p))


def _numbered_sessions(course: Course, window: FeedWindow | None
                       ) -> Iterator[tuple[int, CourseSession]]:
    """The sessions to show, numbered among all the course's sessions (so "3/10" stays
    right when the window leaves the first two out)."""
    for number, course_session in enumerate(course.sessions, start=1):
        if window is None or window.overlaps(course_session.starts_at, course_session.ends_at):
            yield number, course_session


def course_events(course: Course, url: str, stamp: datetime, uid_domain: str,
                  window: FeedWindow | None = None) -> list[Event]:
    events = []
    total = len(course.sessions)
    # The organiser's text is in the course's language (RFC 5545 LANGUAGE).
    written_in = {"language": course.content_language}
    description = clean_text(f"{course.summary}\n\n{url}").strip()
    location = _location(course)
    cancelled = course.state == CourseState.CANCELLED
    for number, course_session in _numbered_sessions(course, window):
        event = Event()
        event.add("uid", f"course-{course.id}-session-{course_session.id}@{uid_domain}")
        event.add("dtstamp", stamp)
        event.add("last-modified", course.updated_at)
        event.add("dtstart", course_session.starts_at)
        event.add("dtend", course_session.ends_at)
        title = single_line(course.title)
        if total > 1:
            title = f"{title} ({number}/{total})"
        event.add("summary", title, parameters=written_in)
        event.add("description", description, parameters=written_in)
        event.add("url", url)
        if course.contact_email:
            event.add("organizer", f"mailto:{single_line(course.contact_email)}", parameters={
                "cn": single_line(course.contact_name or course.organisation.name)})
        if location:
            event["location"] = vText(location)
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        events.append(event)
    return events


def calendar_bytes(courses: list[Course], name: str, window: FeedWindow | None = None) -> bytes:
    """The calendar of ``courses``; with a ``window``, only its sessions, and at most
    ``window.max_events`` events (a guard: the feed queries are capped too)."""
    calendar = Calendar()
    calendar.add("prodid", "-//FriKomPort//Kurskalender//NB")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", single_line(name))
    calendar.add("x-wr-timezone", "Europe/Oslo")
    urls = _detail_urls(course.id for course in courses)
    stamp, uid_domain = utcnow(), _uid_domain()
    events = (event for course in courses
              for event in course_events(course, urls[course.id], stamp, uid_domain, window))
    for event in islice(events, window.max_events if window is not None else None):
        calendar.add_component(event)
    return calendar.to_ical()
