"""Every page, feed and export, as every role: stored text and text echoed from the request
is never rendered as markup.

* every GET route of ``app.url_map`` is visited as every role, with a payload also in the
  query string (pages echo it, e.g. the language switch's ``next``). An HTML answer
  may contain no element, attribute or URL that came from the payload — checked by
  parsing it, not by looking for one spelling — and the key pages must show the payload
  *escaped*, so that the test cannot pass because the payload is missing;
* feeds and exports (iCalendar, Atom, CSV, XLSX, JSON) must be well-formed and carry the
  payload as text; the Atom feed's HTML content is checked like a page;
* the pages the forms answered with while seeding (flash messages repeating what was
  typed), and the query and path echoed back by the user search and error pages.
"""

from __future__ import annotations

import re

from tests.routewalk import build_path, fills_for, routes, rule_for
from tests.seeded_world import ROLES
from tests.xss.checks import (
    ESCAPED,
    ESCAPED_TAG,
    PAYLOAD,
    QUERY_PAYLOAD,
    document_problems,
    markup_problems,
    shows_payload_escaped,
)

# Every page that shows stored text to some role must show it escaped (the test is not
# passing because the payload is missing): the endpoints where some role sees it.
MUST_SHOW_ESCAPED = {
    "accounts.forgot_password", "accounts.profile", "accounts.reset_password",
    "accounts.signup", "admin.new_organisation", "admin.organisations", "admin.outbox",
    "admin.users", "core.index", "course_admin.cancel_course", "course_admin.course_list",
    "course_admin.edit_course", "course_admin.new_course", "course_admin.vocabulary_edit",
    "course_admin.vocabulary_list", "courses.detail", "courses.index", "courses.month_calendar",
    "invitations.respond", "participants.email_all", "participants.participant_list",
    "participants.sign_in_sheet", "registrations.cancel_by_link",
    "registrations.my_registrations", "registrations.register_guest", "search.results",
    "tenancy.audit", "tenancy.dashboard", "tenancy.members", "tenancy.organisation",
    "tenancy.settings",
}
MUST_CARRY_PAYLOAD = {
    "courses.atom_feed", "courses.course_ical", "organisation_feeds.organisation_ical",
    "organisation_feeds.category_ical", "registrations.personal_calendar",
    "participants.export_csv", "participants.export_xlsx",
}


def test_no_page_feed_or_export_renders_the_payload_as_markup(xss_setup):
    """Every GET route × every fill of its arguments × every role."""
    setup = xss_setup
    app = setup.app
    failures, escaped, carried, checked = [], set(), set(), 0
    with app.app_context():
        clients = setup.clients
        for endpoint, method in routes(app):
            if method != "GET":
                continue
            rule = rule_for(app, endpoint)
            for values in fills_for(rule, setup.world):
                path = build_path(rule, values)
                for role in ROLES:
                    # A payload in the query string too, unencoded as a hand-made request
                    # would send it: every page echoes its address (language switch).
                    response = clients[role].get(
                        path, query_string="xss=" + QUERY_PAYLOAD)
                    checked += 1
                    where = f"{role} GET {path} ({response.status_code})"
                    body = response.get_data()
                    if "html" in response.content_type:
                        html = body.decode()
                        failures += [f"{where}: {p}" for p in markup_problems(html)]
                        if response.status_code == 200 and shows_payload_escaped(html):
                            escaped.add(endpoint)
                    elif response.status_code == 200:
                        try:
                            problems, found = document_problems(response.content_type, body)
                        except Exception as error:  # reported with the route, not swallowed
                            problems, found = [f"{type(error).__name__}: {error}"], False
                        failures += [f"{where}: {p}" for p in problems]
                        if found:
                            carried.add(endpoint)
                    header = response.headers.get("Content-Disposition", "")
                    if "\n" in header or "\r" in header:
                        failures.append(f"{where}: Content-Disposition {header!r}")
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])
    assert checked > 500, checked
    assert MUST_SHOW_ESCAPED - escaped == set(), "the payload is missing from these pages"
    assert MUST_CARRY_PAYLOAD - carried == set(), "the payload is missing from these feeds"


FLASH = re.compile(r'<div class="flash-messages"[^>]*>((?:\s*<div class="ds-alert"[^>]*>\s*'
                   r'<p class="ds-paragraph">.*?</p>\s*</div>)+)', re.S)


def test_pages_answered_to_forms_escape_what_was_typed(xss_setup):
    """Flash messages that repeat input, the query string echoed back, the pages the
    forms answer with."""
    assert len(xss_setup.pages) >= 8
    for label, expect, html in xss_setup.pages:
        assert not markup_problems(html), (label, markup_problems(html))
        assert shows_payload_escaped(html) or not expect, label
        if expect == "flash":
            flash = FLASH.search(html)
            assert flash and ESCAPED_TAG in flash[1], (label, "flash message")


def test_echoed_query_and_path_are_escaped(xss_setup):
    """The admin's user search repeats the query; error pages repeat the path."""
    with xss_setup.app.app_context():
        clients = xss_setup.clients
        users = clients["site_admin"].get("/admin/users", query_string={"q": PAYLOAD})
        missing = [clients[role].get(path) for role in ("anonymous", "admin")
                   for path in (f"/o/{QUERY_PAYLOAD}/", f"/courses/{QUERY_PAYLOAD}",
                                f"/nowhere/{QUERY_PAYLOAD}")]
    assert users.status_code == 200
    assert not markup_problems(users.text) and ESCAPED in users.text
    for response in missing:
        assert response.status_code == 404
        assert not markup_problems(response.text), markup_problems(response.text)
        assert "&lt;svg/onload=alert(&#39;QXSS1&#39;)&gt;" in response.text
