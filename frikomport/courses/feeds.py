"""iCalendar feeds: one VEVENT per course session (icalendar library).

Stored text goes through :func:`single_line` / :func:`clean_text` first: RFC 5545 allows
no control characters, and a calendar client rejects the whole feed for one of them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, vText

from frikomport.courses.models import Course, CourseState
from frikomport.db import utcnow
from frikomport.inputs import clean_text, single_line
from frikomport.urls import external_url


def _uid_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "frikomport.invalid"


def _location(course: Course) -> str:
    if course.location is None:
        return ""
    parts = [course.location.name, course.location.room, course.location.address]
    return single_line(", ".join(p for p in parts if p))


def course_events(course: Course) -> list[Event]:
    url = external_url("courses.detail", course_id=course.id)
    events = []
    for number, course_session in enumerate(course.sessions, start=1):
        event = Event()
        event.add("uid", f"course-{course.id}-session-{course_session.id}@{_uid_domain()}")
        event.add("dtstamp", utcnow())
        event.add("last-modified", course.updated_at)
        event.add("dtstart", course_session.starts_at)
        event.add("dtend", course_session.ends_at)
        title = single_line(course.title)
        if len(course.sessions) > 1:
            title = f"{title} ({number}/{len(course.sessions)})"
        # The organiser's text is in the course's language (RFC 5545 LANGUAGE).
        written_in = {"language": course.content_language}
        event.add("summary", title, parameters=written_in)
        event.add("description", clean_text(f"{course.summary}\n\n{url}").strip(),
                  parameters=written_in)
        event.add("url", url)
        if course.contact_email:
            event.add("organizer", f"mailto:{single_line(course.contact_email)}", parameters={
                "cn": single_line(course.contact_name or course.organisation.name)})
        if location := _location(course):
            event["location"] = vText(location)
        cancelled = course.state == CourseState.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        events.append(event)
    return events


def calendar_bytes(courses: list[Course], name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//FriKomPort//Kurskalender//NB")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", single_line(name))
    calendar.add("x-wr-timezone", "Europe/Oslo")
    for course in courses:
        for event in course_events(course):
            calendar.add_component(event)
    return calendar.to_ical()
