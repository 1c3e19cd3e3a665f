"""The search typeahead with the keyboard, in a real browser: arrows move the highlight,
a new list starts unhighlighted (Enter then submits the search instead of failing),
Escape closes the list but keeps the query, and the list is named and counted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from frikomport.extensions import db
from frikomport.search import indexer, service
from tests.factories import CourseFactory, OrganisationFactory, in_days

TITLES = ("Førstehjelp for ansatte", "Klarspråk – skriv så folk forstår",
          "Førerkort for traktor")
LISTBOX = "[role=listbox]:visible"
OPTION = "[role=option]"


@pytest.fixture
def search_page(live_app, live_server, browser):
    """/search with three indexed courses; fails on any script error."""
    organisation = OrganisationFactory()
    for days, title in enumerate(TITLES, start=3):
        CourseFactory(organisation=organisation, title=title, sessions=[in_days(days)])
    indexer.rebuild(db.session, service.backend_for(live_app))
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(f"{live_server}/search/")
    yield page
    context.close()
    assert errors == []


def type_query(page, text: str) -> None:
    page.locator("main input[type=search]").press_sequentially(text)


def test_suggestions_are_named_counted_and_ranked(search_page):
    type_query(search_page, "før")
    listbox = search_page.locator(LISTBOX)
    listbox.wait_for()
    assert listbox.get_attribute("aria-label")
    # Soonest first, but "forstår" matches "før" only folded: Klarspråk comes last.
    assert listbox.locator(OPTION).all_inner_texts() == [TITLES[0], TITLES[2], TITLES[1]]
    assert "3" in search_page.locator("main [role=status]").inner_text()


def test_enter_after_the_list_changed_submits_the_search(search_page):
    type_query(search_page, "før")
    search_page.locator(LISTBOX).wait_for()
    search = search_page.locator("main input[type=search]")
    search.press("ArrowDown")
    search.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant")
    type_query(search_page, "ste")  # "første": one suggestion, nothing highlighted
    expect(search_page.locator(LISTBOX).locator(OPTION)).to_have_count(1)
    assert search.get_attribute("aria-activedescendant") is None
    with search_page.expect_navigation():
        search.press("Enter")
    assert "q=f%C3%B8rste" in search_page.url or "q=første" in search_page.url


def test_arrow_and_enter_open_the_course(search_page):
    type_query(search_page, "før")
    search_page.locator(LISTBOX).wait_for()
    search = search_page.locator("main input[type=search]")
    search.press("ArrowDown")
    with search_page.expect_navigation():
        search.press("Enter")
    assert search_page.get_by_role("heading", level=1).inner_text().startswith("Førstehjelp")


def test_escape_closes_the_list_and_keeps_the_query(search_page):
    type_query(search_page, "før")
    search_page.locator(LISTBOX).wait_for()
    search = search_page.locator("main input[type=search]")
    search.press("Escape")
    assert search_page.locator(LISTBOX).count() == 0
    assert search.input_value() == "før"
    assert search.get_attribute("aria-expanded") == "false"
    search.press("ArrowDown")  # the same suggestions open again
    assert search_page.locator(LISTBOX).locator(OPTION).count() == 3
