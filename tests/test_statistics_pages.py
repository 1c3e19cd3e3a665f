"""The statistics pages: who may read which figures, the charts, the spreadsheets.

The figures themselves are held to a brute-force count in tests/statistics/.
"""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
from openpyxl import load_workbook

from frikomport.courses.models import Visibility
from frikomport.extensions import db
from frikomport.registrations.models import RegistrationState as State
from frikomport.statistics import services
from frikomport.statistics.queries import Scope
from frikomport.statistics.services import year_before
from frikomport.tenancy.models import Role
from tests.factories import CategoryFactory, CourseFactory, in_days, member, register

PAGE = "/o/kongsberg/admin/statistics"


@pytest.fixture
def history(kongsberg, notodden):
    """A course of Kongsberg's that started yesterday, with a Notodden employee among the
    participants: four registrations, two attended (one paid), one no-show, one cancel."""
    first_aid = CategoryFactory(organisation=kongsberg, name="Førstehjelp")
    course = CourseFactory(organisation=kongsberg, title="HLR for alle", category=first_aid,
                           sessions=[in_days(-1, hours=3)], fee_region_ore=50_000,
                           charge_no_shows=False)
    people = [member(kongsberg), member(kongsberg), member(kongsberg), member(notodden)]
    register(course, people[0], State.ATTENDED, fee_ore=0, fee_kind="host")
    register(course, people[1], State.NO_SHOW, fee_ore=0, fee_kind="host")
    register(course, people[2], State.CANCELLED)
    register(course, people[3], State.ATTENDED, fee_ore=50_000, fee_kind="region")
    return course


def test_organiser_reads_the_host_figures_with_charts_and_tables(history, kongsberg, client,
                                                                login):
    login(member(kongsberg, Role.ORGANISER))
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert "HLR for alle" in text and "Førstehjelp" in text and "Notodden kommune" in text
    assert 'src="/o/kongsberg/admin/statistics/attendance.svg?' in text
    # Organisers read their courses' figures, not what the employees took part in.
    assert "view=employer" not in text
    assert client.get(PAGE + "?view=employer").status_code == 403


def test_the_chart_is_an_svg_with_its_own_narrow_policy(history, kongsberg, client, login):
    login(member(kongsberg, Role.ADMIN))
    chart = client.get(PAGE + "/attendance.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert b"<svg" in chart.data and b"<script" not in chart.data
    assert chart.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_every_table_downloads_with_the_figures_of_the_page(history, kongsberg, client,
                                                            login):
    login(member(kongsberg, Role.ADMIN))
    workbook = load_workbook(io.BytesIO(client.get(PAGE + "/all.xlsx").data))
    categories = workbook.worksheets[2]
    rows = list(categories.iter_rows(values_only=True))
    assert rows[2][:4] == ("Førstehjelp", 4, 2, 1)
    assert float(rows[2][-1]) == 500.0  # kroner charged: the Notodden employee's fee
    single = load_workbook(io.BytesIO(client.get(PAGE + "/employers.xlsx").data))
    assert len(single.worksheets) == 1
    assert client.get(PAGE + "/nothing.xlsx").status_code == 404


def test_employees_and_other_tenants_are_kept_out(history, kongsberg, notodden, client,
                                                 login):
    login(member(kongsberg))
    assert client.get(PAGE).status_code == 403
    assert client.get("/region/statistics").status_code == 403
    client.post("/logout")
    login(member(notodden, Role.ADMIN))
    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE + "/all.xlsx").status_code == 404


def test_every_admin_reads_the_region(history, notodden, client, login):
    login(member(notodden, Role.ADMIN))
    page = client.get("/region/statistics")
    assert page.status_code == 200 and "Kongsberg kommune" in page.text
    assert client.get("/region/statistics/no-shows.svg").status_code == 200


def test_the_employer_view_counts_the_own_people_at_every_host(history, notodden, client,
                                                             login):
    login(member(notodden, Role.ADMIN))
    page = client.get("/o/notodden/admin/statistics?view=employer")
    assert page.status_code == 200
    assert "HLR for alle" in page.text and "Kongsberg kommune" in page.text


def test_the_region_lists_no_other_tenants_internal_course(history, kongsberg, notodden,
                                                           client, login):
    secret = CourseFactory(organisation=kongsberg, title="Intern omstilling",
                           visibility=Visibility.INTERNAL, sessions=[in_days(-2)])
    register(secret, member(kongsberg), State.ATTENDED, fee_ore=0, fee_kind="host")
    login(member(notodden, Role.ADMIN))
    page = client.get("/region/statistics")
    assert "Intern omstilling" not in page.text
    assert "1 internt kurs hos en annen organisasjon er med i tallene" in page.text
    workbook = load_workbook(io.BytesIO(client.get("/region/statistics/courses.xlsx").data))
    titles = [row[0] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    assert "HLR for alle" in titles and "Intern omstilling" not in titles
    client.post("/logout")
    login(member(kongsberg, Role.ADMIN))
    assert "Intern omstilling" in client.get("/region/statistics").text


def test_a_kept_report_is_not_shown_after_a_change(history, kongsberg, client, login):
    login(member(kongsberg, Role.ADMIN))
    before = load_workbook(io.BytesIO(client.get(PAGE + "/summary.xlsx").data)).worksheets[0]
    attended = list(before.iter_rows(values_only=True))[3][1]
    client.get(PAGE)  # the page and its downloads share one kept report
    late = register(history, member(kongsberg), State.ATTENDED, fee_ore=0, fee_kind="host")
    after = load_workbook(io.BytesIO(client.get(PAGE + "/summary.xlsx").data)).worksheets[0]
    assert list(after.iter_rows(values_only=True))[3][1] == attended + 1
    db.session.delete(late)  # removed: the kept report is not found by its key any more
    db.session.commit()
    again = load_workbook(io.BytesIO(client.get(PAGE + "/summary.xlsx").data)).worksheets[0]
    assert list(again.iter_rows(values_only=True))[3][1] == attended


@pytest.mark.parametrize("day, earlier", [
    (date(2025, 2, 28), date(2024, 2, 29)), (date(2024, 2, 29), date(2023, 2, 28)),
    (date(2024, 2, 28), date(2023, 2, 28)), (date(2026, 12, 31), date(2025, 12, 31)),
    (date(2026, 3, 1), date(2025, 3, 1))])
def test_the_year_before_keeps_the_end_of_february(day, earlier):
    assert year_before(day) == earlier


def test_a_report_is_kept_for_at_most_five_minutes(history, kongsberg, monkeypatch):
    scope, year = Scope("host", kongsberg.id), (date(2000, 1, 1), date(2199, 12, 31))
    first = services.build(db.session, scope, *year)
    assert services.build(db.session, scope, *year) is first
    now = time.monotonic()
    monkeypatch.setattr(services.time, "monotonic", lambda: now + services.KEPT_SECONDS + 1)
    assert services.build(db.session, scope, *year) is not first
