"""In a real browser: a refused form puts the keyboard focus on its error summary, and each
link there takes the focus to the input it is about, also one in a session row; on a phone
the session rows stack inside the page."""

from frikomport.tenancy.models import Role
from tests.browser.accessibility import MEASURE_REFLOW, SIZES
from tests.factories import DEFAULT_PASSWORD, OrganisationFactory, member


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("main input[name=email]").fill(email)
    with page.expect_navigation():  # e-mail first, then the password
        page.locator("main form button[type=submit]").first.click()
    page.locator("main input[name=password]").fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()


def focused_id_and_class(page) -> tuple[str, str]:
    page.wait_for_load_state()  # focus.js runs once the page has loaded
    element_id, class_name = page.evaluate(
        "[document.activeElement.id, document.activeElement.className]")
    return element_id, class_name


def test_refused_course_form_focuses_the_summary_whose_links_reach_each_input(
        live_server, browser):
    kongsberg = OrganisationFactory(slug="kongsberg", name="Kongsberg kommune")
    member(kongsberg, Role.ORGANISER, email="ola@kongsberg.example.org")
    page = browser.new_page(viewport=SIZES["1280x800"])
    log_in(page, live_server, "ola@kongsberg.example.org")
    page.goto(f"{live_server}/o/kongsberg/admin/courses/new")
    page.locator("#title").fill("")
    page.locator("#sessions-1-day").fill("2027-06-16")
    with page.expect_navigation():
        page.locator("form.course-form button[type=submit]").click()

    assert focused_id_and_class(page) == ("error-summary", "ds-error-summary")
    for target in ("title", "sessions-1-ends"):
        page.locator(f"#error-summary a[href='#{target}']").click()
        assert focused_id_and_class(page)[0] == target

    page.set_viewport_size(SIZES["320x640"])
    assert page.evaluate(MEASURE_REFLOW) is None
    assert page.locator("label[for=sessions-1-ends]").is_visible()  # stacked, labelled
