"""End to end in a real browser: an employee in one municipality registers for a
region course run by another, and cancels again; the organiser sees it."""

from frikomport.courses.models import Visibility
from frikomport.tenancy.models import Role
from tests.factories import DEFAULT_PASSWORD, CourseFactory, OrganisationFactory, member


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("E-postadresse").fill(email)
    page.get_by_label("Passord").fill(DEFAULT_PASSWORD)
    page.locator("main").get_by_role("button", name="Logg inn").click()


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
    assert page.get_by_text("Du har plass").is_visible()
    assert page.get_by_text("9 plasser igjen").is_visible()

    page.get_by_role("link", name="Mine påmeldinger").click()
    assert page.get_by_role("cell", name="Plass bekreftet").is_visible()
    page.get_by_role("button", name="Meld av").click()
    assert page.get_by_text("Du er meldt av.").is_visible()

    organiser = browser.new_page()
    log_in(organiser, live_server, "ola@kongsberg.example.org")
    organiser.goto(f"{live_server}/o/kongsberg/admin/courses")
    organiser.get_by_role("link", name="Deltakere – Førstehjelp for barnehageansatte").click()
    row = organiser.get_by_role("row", name="Marte Moen")
    assert row.get_by_text("Avmeldt").is_visible()
    assert organiser.get_by_text("Vegetar").is_visible()


def test_language_switch_and_skip_link(live_server, browser):
    page = browser.new_page()
    page.goto(live_server)
    assert page.locator("html").get_attribute("lang") == "nb"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Hopp til hovedinnhold"
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Log in").is_visible()
