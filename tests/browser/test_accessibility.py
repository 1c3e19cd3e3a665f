"""Universal design as a tested property: every page a person can reach passes axe-core
(WCAG 2.1 A/AA and best practice) at 1280×800 and 320×640 and does not scroll sideways on
the phone, in every role, also with its forms in their error state and the typeahead open.

Pages are not listed by hand: they come from the app's own GET routes, with path values
from the seeded world of the fuzz test (``tests/routewalk.py``), so a new page is checked
as soon as it exists. Findings are collected and reported together, per rule.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.accessibility import SIZES, check_page, report
from tests.browser.conftest import migrated_app, serving
from tests.factories import DEFAULT_PASSWORD
from tests.routewalk import Discovery, get_paths, routes
from tests.seeded_world import ROLES, seed_world

# Feeds, exports, JSON and files are not pages; a probe tells them apart by content type.
HTML = "text/html"
FILLABLE = ("text", "email", "password", "number", "date", "datetime-local", "time", "tel",
            "url", "search", "textarea")

POST_FORMS = """(kinds) => Array.from(document.forms).map((form, index) => ({index,
  action: form.action, method: (form.getAttribute('method') || 'get').toLowerCase(),
  fields: Array.from(form.elements).filter(e => kinds.includes(e.type) &&
                                                e.offsetParent !== null).length}))
  .filter(form => form.method === 'post' && form.fields > 0)"""

SUBMIT_EMPTY = """([index, kinds]) => {
  const form = document.forms[index];
  form.noValidate = true;
  for (const e of form.elements) if (kinds.includes(e.type)) e.value = '';
  form.requestSubmit();
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The fuzz test's seeded world (two tenants, every state) on a live server."""
    with migrated_app(tmp_path_factory.mktemp("a11y")) as app:
        world = seed_world()
        with serving(app) as base:
            yield app, world, base


def log_in(page, base: str, email: str) -> None:
    """E-mail first ("Fortsett"), then the password ("Logg inn")."""
    page.goto(f"{base}/login")
    form = page.locator("main form").first
    form.locator("input[name=email]").fill(email)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    form.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert urlsplit(page.url).path != "/login", f"{email} could not log in"


@pytest.fixture(scope="module")
def shown():
    """GET endpoints that some role was shown as a page of their own (200, HTML)."""
    return set()


def reachable_pages(app, world, page, base: str, shown: set[str]) -> list[str]:
    """Every distinct HTML page the role can open from the app's GET routes (its 200s, and
    one of each error status), as paths after redirects."""
    pages, statuses = [], set()
    for endpoint, requested in get_paths(app, world):
        probe = page.context.request.get(base + requested)
        if HTML not in probe.headers.get("content-type", ""):
            shown.add(endpoint)  # a feed, export or file: not a page to check
            continue
        if probe.status == 200 and urlsplit(probe.url).path == requested:
            shown.add(endpoint)
        if probe.status != 200 and probe.status in statuses:
            continue
        statuses.add(probe.status)
        # Routes are built without a query, so after a redirect (to the login page, say)
        # the path alone names the page, however many pages sent people there.
        path = urlsplit(probe.url).path
        if path not in pages:
            pages.append(path)
    return pages


def error_states(app, page, base: str, role: str, pages: list[str]) -> tuple[list, int]:
    """Submit each POST form with fillable fields once (per action) with those fields
    emptied and the browser's own validation off, and check the page that answers.
    Returns the findings and the number of forms submitted."""
    discovery, seen, findings = Discovery(app), set(), []
    for path in pages:
        page.goto(base + path)
        for form in page.evaluate(POST_FORMS, list(FILLABLE)):
            endpoint = discovery.endpoint_of(urlsplit(form["action"]).path, "POST")
            if endpoint in seen:
                continue
            seen.add(endpoint)
            if urlsplit(page.url).path != urlsplit(base + path).path:
                page.goto(base + path)
            with page.expect_navigation():
                page.evaluate(SUBMIT_EMPTY, [form["index"], list(FILLABLE)])
            findings += check_page(page, f"{role} POST {endpoint} (empty) from {path}")
            page.goto(base + path)
    return findings, len(seen)


@pytest.mark.parametrize("role", ROLES)
def test_every_reachable_page_is_accessible(site, browser, shown, role):
    app, world, base = site
    context = browser.new_context(viewport=SIZES["1280x800"], bypass_csp=True)
    page = context.new_page()
    try:
        if role != "anonymous":
            log_in(page, base, world.users[role].email)
        pages = reachable_pages(app, world, page, base, shown)
        findings = []
        for path in pages:
            page.goto(base + path)
            findings += check_page(page, f"{role} GET {path}")
        errors, submitted = error_states(app, page, base, role, pages)
        findings += errors
    finally:
        context.close()
    assert pages, f"{role} reached no page at all"
    assert not findings, report(findings, len(pages) + submitted)


@pytest.mark.parametrize("size", SIZES)
def test_open_typeahead_is_accessible(site, browser, size):
    _app, _world, base = site
    context = browser.new_context(viewport=SIZES[size], bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(base + "/search")
        page.locator("main input[type=search]").press_sequentially("før")
        page.locator("[role=listbox]:visible").first.wait_for()
        findings = check_page(page, "anonymous /search with the typeahead open")
    finally:
        context.close()
    assert not findings, report(findings, 1)


# Endpoints that are not pages: a confirmation link answers with a redirect to another
# page (checked there), the logo is an image (none in the seeded world).
NOT_PAGES = frozenset({"accounts.confirm_email", "registrations.confirm_guest",
                       "tenancy.logo", "billing.ehf_download",  # files: EHF XML,
                       "billing.basis_download",  # the basis as CSV or XLSX
                       "my_competence.certificate_file",  # an uploaded certificate
                       # Single sign-on: the way back from the provider (without a login
                       # under way, an error page: checked as such), and two pages that
                       # redirect unless a login is half done or just ended, checked in
                       # test_sso_login.py.
                       "sso.callback", "sso.link", "sso.logged_out"})


def test_no_page_slipped_past(site, shown):
    """Every GET route was shown to some role as a page and checked above (or is a
    feed, export or file), so a new page cannot escape the check by accident."""
    app, _world, _base = site
    missed = {endpoint for endpoint, method in routes(app) if method == "GET"} - shown
    assert missed == NOT_PAGES, f"not checked as a page by any role: {sorted(missed)}"
