"""The public side: header menu state, the month calendar's empty months and phone list,
Norwegian course text marked as such on pages in another language, search hits as
course cards, and the named date formats."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask_babel import force_locale

from frikomport import templating
from frikomport.extensions import db
from frikomport.search import indexer, service
from frikomport.timeutil import local_to_utc, to_local
from tests.factories import CourseFactory, in_days


def html(response) -> str:
    assert response.status_code == 200
    return response.text


def between(page: str, start: str, end: str) -> str:
    """The first stretch of the page from ``start`` to the next ``end``."""
    return start + page.split(start, 1)[1].split(end, 1)[0]


def session_on(day: date, hour: int = 10):
    start = local_to_utc(day, time(hour))
    return start, start + timedelta(hours=2)


# Header ---------------------------------------------------------------------------------

def test_the_current_main_menu_item_is_marked(client):
    nav = between(html(client.get("/courses/calendar")), '<nav class="site-nav"', "</nav>")
    assert re.findall(r'href="([^"]+)" aria-current="page"', nav) == ["/courses/calendar"]
    home_nav = between(html(client.get("/")), '<nav class="site-nav"', "</nav>")
    assert "aria-current" not in home_nav


def test_search_landmarks_are_named_and_not_repeated(client):
    labels = re.findall(r'role="search"[^>]*aria-label="([^"]+)"', html(client.get("/")))
    assert len(labels) == 1
    search_page = html(client.get("/search/"))
    search_labels = re.findall(r'role="search"[^>]*aria-label="([^"]+)"', search_page)
    assert search_page.count('role="search"') == 1 and search_labels != labels


# Calendar -------------------------------------------------------------------------------

def test_an_empty_month_links_to_the_month_of_the_next_course(client, kongsberg):
    CourseFactory(organisation=kongsberg, title="Vårkurs", sessions=[session_on(date(2027, 5, 4))])
    page = html(client.get("/courses/calendar?month=2027-02"))
    link = between(page, "<a class=\"ds-link\" data-next-month", "</a>")
    assert 'href="/courses/calendar?month=2027-05"' in link and "mai 2027" in link
    assert "calendar-days" not in page


def test_an_empty_month_with_nothing_later_says_so_without_a_link(client, kongsberg):
    CourseFactory(organisation=kongsberg, sessions=[session_on(date(2027, 5, 4))])
    page = html(client.get("/courses/calendar?month=2027-06"))
    assert "calendar-empty" in page and "data-next-month" not in page


def test_a_month_with_courses_is_also_a_list_of_days(client, kongsberg):
    CourseFactory(organisation=kongsberg, title="Vårkurs", sessions=[session_on(date(2027, 5, 4))])
    page = html(client.get("/courses/calendar?month=2027-05"))
    assert "calendar-empty" not in page
    days = between(page, '<ol class="calendar-days">', "</ol>")
    assert days.count('<time datetime="2027-05-04">') == 1
    assert "Vårkurs" in days and "10:00" in days


# Course text language --------------------------------------------------------------------

def course_text_languages(page: str, text: str) -> set[str]:
    """How each place the text is shown starts: marked Bokmål or not."""
    marked = page.count(f'<span lang="nb">{text}')
    return {"nb"} if marked == page.count(text) else ({"none"} if not marked else {"mixed"})


@pytest.mark.parametrize("path", ["/", "/courses/", "/courses/calendar?month={month}",
                                  "/courses/{id}"])
def test_course_text_is_marked_norwegian_on_english_pages(client, kongsberg, path):
    course = CourseFactory(organisation=kongsberg, title="Brannvernkurs",
                           summary="Slik slukker du en brann.", sessions=[in_days(3)])
    month = to_local(course.sessions[0].starts_at).strftime("%Y-%m")
    path = path.format(id=course.id, month=month)
    # The page title cannot hold markup: only what follows it counts.
    norwegian = html(client.get(path)).split("</title>", 1)[1]
    assert course_text_languages(norwegian, "Brannvernkurs") == {"none"}
    client.post("/language", data={"language": "en"})
    english = html(client.get(path)).split("</title>", 1)[1]
    assert course_text_languages(english, "Brannvernkurs") == {"nb"}


def test_markdown_description_is_marked_as_one_block(client, kongsberg):
    course = CourseFactory(organisation=kongsberg, description="## Innhold\n\nBrann og *røyk*.")
    client.post("/language", data={"language": "en"})
    description = between(html(client.get(f"/courses/{course.id}")),
                          '<div class="course__description">', "</div>")
    assert description.startswith('<div class="course__description"><div lang="nb"><h2>Innhold')


# Search hits ----------------------------------------------------------------------------

def test_search_hits_are_course_cards(app, client, kongsberg):
    CourseFactory(organisation=kongsberg, title="Brannvernkurs", capacity=12,
                  sessions=[in_days(3)])
    indexer.rebuild(db.session, service.backend_for(app))
    card = between(html(client.get("/search/?q=brannvern")), '<li class="ds-card course-card">',
                   "</li>")
    assert "Brannvernkurs" in card and "<time datetime=" in card
    assert "Kongsberg kommune" in between(card, '<dl class="course-card__facts">', "</dl>")
    assert "12 plasser igjen" in card


def test_facet_groups_are_lists_named_by_their_heading(app, client, kongsberg):
    CourseFactory(organisation=kongsberg, title="Brannvernkurs")
    indexer.rebuild(db.session, service.backend_for(app))
    page = html(client.get("/search/?q=brannvern"))
    groups = re.findall(r'<ul [^>]*aria-labelledby="([^"]+)"', page)
    assert groups
    for heading in groups:
        assert re.search(rf'<h3 [^>]*id="{heading}"', page)


# Date formats ---------------------------------------------------------------------------

MOMENT = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)  # 09:00 in Oslo


@pytest.mark.parametrize(("locale", "expected"), [
    ("nb", ("søndag 6. desember 2026, 09:00", "søn. 6. des. 2026, 09:00", "09:00",
            "desember 2026")),
    ("en", ("Sunday, December 6, 2026, 9:00\u202fAM", "Sun, Dec 6, 2026, 9:00\u202fAM",
            "9:00\u202fAM", "December 2026")),
])
def test_named_date_formats_follow_the_locale(app, locale, expected):
    with app.test_request_context(), force_locale(locale):
        assert (templating.datetime_long(MOMENT), templating.datetime_short(MOMENT),
                templating.time_only(MOMENT), templating.month_year(date(2026, 12, 1))
                ) == expected


def test_norwegian_marking_escapes_the_text(app):
    with app.test_request_context(), force_locale("en"):
        marked = templating.written("<b>Brann</b>")
        assert marked == '<span lang="nb">&lt;b&gt;Brann&lt;/b&gt;</span>'
    with app.test_request_context(), force_locale("nb"):
        assert templating.written("<b>Brann</b>") == "&lt;b&gt;Brann&lt;/b&gt;"
