"""End to end in a real browser: an employee in one municipality registers for a
region course run by another, and cancels again (after confirming); the organiser sees it.
After each action the keyboard focus is on the status message that says it is done."""

from playwright.sync_api import expect

from frikomport.courses.models import Visibility
from frikomport.tenancy.models import Role
from tests.factories import DEFAULT_PASSWORD, CourseFactory, OrganisationFactory, member


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("E-postadresse").fill(email)
    page.locator("main").get_by_role("button", name="Fortsett").click()
    page.get_by_label("Passord").fill(DEFAULT_PASSWORD)
    page.locator("main").get_by_role("button", name="Logg inn").click()


def focused_status(page) -> str:
    """The text of the focused element if it is the status message, else ""."""
    page.wait_for_load_state()  # focus.js runs once the page has loaded
    return page.evaluate("""() => document.activeElement.getAttribute('role') === 'status'
                                  ? document.activeElement.innerText.trim() : ''""")


def test_employee_registers_and_cancels(live_server, browser):
    kongsberg = OrganisationFactory(slug="kongsberg", name="Kongsberg kommune")
    notodden = OrganisationFactory(slug="notodden", name="Notodden kommune")
    CourseFactory(organisation=kongsberg, title="Førstehjelp for barnehageansatte",
                  visibility=Visibility.REGION, capacity=10)
    member(notodden, Role.EMPLOYEE, email="marte@notodden.example.org", name="Marte Moen")
    member(kongsberg, Role.ORGANISER, email="ola@kongsberg.example.org")

    page = browser.new_page()
    log_in(page, live_server, "marte@notodden.example.org")
    page.get_by_role("link", name="Kurs", exact=True).click()
    page.get_by_role("link", name="Førstehjelp for barnehageansatte").click()
    page.get_by_label("Kommentar til arrangøren").fill("Vegetar")
    page.get_by_role("button", name="Meld meg på").click()
    assert page.get_by_text("Du er påmeldt.").is_visible()
    assert focused_status(page).startswith("Du er påmeldt.")
    assert page.get_by_text("Du har plass").is_visible()
    assert page.get_by_text("9 plasser igjen").is_visible()

    page.get_by_role("link", name="Mine påmeldinger").click()
    assert page.get_by_role("cell", name="Plass bekreftet").is_visible()
    page.get_by_role("link", name="Meld av – Førstehjelp for barnehageansatte").click()
    # A question first: nothing is cancelled until it is answered.
    assert page.get_by_role("heading", level=1).filter(
        has_text="Førstehjelp for barnehageansatte").is_visible()
    page.get_by_role("button", name="Ja, meld meg av").click()
    assert page.url.endswith("/me/registrations")
    assert focused_status(page) == "Du er meldt av."

    organiser = browser.new_page()
    log_in(organiser, live_server, "ola@kongsberg.example.org")
    organiser.goto(f"{live_server}/o/kongsberg/admin/courses")
    organiser.get_by_role("link", name="Deltakere – Førstehjelp for barnehageansatte").click()
    row = organiser.get_by_role("row", name="Marte Moen")
    assert row.get_by_text("Avmeldt").is_visible()
    assert organiser.get_by_text("Vegetar").is_visible()


def test_cancelling_on_the_course_page_asks_and_returns_there(live_server, browser):
    """With the keyboard only: register, cancel, think again, then cancel for real."""
    oslo = OrganisationFactory(slug="oslo", name="Oslo kommune")
    course = CourseFactory(organisation=oslo, title="Arkivkurs", capacity=1)
    member(oslo, Role.EMPLOYEE, email="per@oslo.example.org")
    page = browser.new_page()
    log_in(page, live_server, "per@oslo.example.org")
    page.goto(f"{live_server}/courses/{course.id}")
    page.get_by_role("button", name="Meld meg på").press("Enter")
    assert focused_status(page).startswith("Du er påmeldt.")

    page.get_by_role("link", name="Meld meg av").press("Enter")
    page.wait_for_load_state()
    assert "/cancel" in page.url and page.get_by_text("Arkivkurs").first.is_visible()
    page.locator("main form a").press("Enter")  # "No, keep my registration"
    page.wait_for_load_state()
    assert page.url == f"{live_server}/courses/{course.id}"
    assert page.get_by_text("Du har plass").is_visible()

    page.get_by_role("link", name="Meld meg av").press("Enter")
    page.get_by_role("button", name="Ja, meld meg av").press("Enter")
    page.wait_for_url(f"{live_server}/courses/{course.id}")
    assert focused_status(page) == "Du er meldt av."
    assert page.get_by_role("button", name="Meld meg på").is_visible()


def test_copying_the_personal_calendar_address(live_server, browser):
    oslo = OrganisationFactory(slug="oslo", name="Oslo kommune")
    member(oslo, Role.EMPLOYEE, email="per@oslo.example.org", calendar_token="t" * 43)
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"],
                              origin=live_server)
    page = context.new_page()
    log_in(page, live_server, "per@oslo.example.org")
    page.get_by_role("link", name="Mine påmeldinger").click()
    address = page.locator("input#calendar-url").input_value()
    assert address == f"{live_server}/me/calendar/{'t' * 43}.ics"
    copy = page.locator("button[data-copy=calendar-url]")
    copy.click()
    expect(page.locator("#calendar-url-status")).to_have_text(copy.get_attribute("data-copied"))
    assert page.evaluate("navigator.clipboard.readText()") == address
    context.close()


def test_language_switch_and_skip_link(live_server, browser):
    page = browser.new_page()
    page.goto(live_server)
    assert page.locator("html").get_attribute("lang") == "nb"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Hopp til hovedinnhold"
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()  # the menu is shown once the stylesheets are in
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Log in").is_visible()
    page.get_by_role("button", name="Nynorsk").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nn"
    assert page.get_by_role("link", name="Logg inn").is_visible()
    assert page.get_by_role("button", name="Bokmål").get_attribute("lang") == "nb"
