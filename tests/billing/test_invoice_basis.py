"""The invoice basis: charged, not yet invoiced registrations per buyer; marking them
invoiced with an invoice number, once; the SQL rule equals the Python rule."""

from __future__ import annotations

import csv
import io
import itertools
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from frikomport.billing import fees
from frikomport.billing.models import InvoiceLine
from frikomport.billing.services import charged_clause
from frikomport.courses.models import Course
from frikomport.extensions import db
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from tests.billing.ehf_checks import NS, peppol_problems
from tests.factories import CourseFactory, member

BASIS = "/o/kongsberg/admin/invoicing"
PERIOD = {"from": "2000-01-01", "to": "2199-12-31"}


def seat(course, person=None, *, state=S.CONFIRMED, fee=100_000, guest_name=None,
         **fields) -> Registration:
    registration = Registration(
        organisation_id=course.organisation_id, course=course, user=person,
        name=person.name if person else guest_name, email=person.email if person else
        f"{guest_name.split()[0].lower()}@example.org",
        employer_organisation_id=person.home_organisation_id if person else None,
        employer_name="" if person else "Privat", state=state, fee_ore=fee, **fields)
    db.session.add(registration)
    db.session.commit()
    return registration


@pytest.fixture
def organiser(client, login, kongsberg):
    person = member(kongsberg, Role.ORGANISER)
    login(person)
    return person


def test_charged_lines_are_grouped_by_buyer(client, organiser, course, kongsberg, notodden):
    seat(course, member(kongsberg, name="Kari Kongsberg"))
    seat(course, member(notodden, name="Nils Notodden"), fee=125_050, own_reference="K-77")
    seat(course, member(notodden, name="Nora Notodden"), state=S.NO_SHOW, fee=125_050)
    seat(course, guest_name="Gro Gjest", fee=150_000)
    seat(course, member(notodden, name="Ola Avmeldt"), state=S.CANCELLED)  # free cancel
    seat(course, member(notodden, name="Per Venter"), state=S.WAITLISTED, fee=None)
    page = client.get(BASIS, query_string=PERIOD).text
    groups = page.split('<section class="invoice-group"')[1:]
    assert [g.split("</h3>")[0].rsplit(">", 1)[1] for g in groups] == [
        "Kongsberg kommune", "Notodden kommune", "Privat"]
    assert "Nils Notodden" in groups[1] and "Nora Notodden" in groups[1] and "K-77" in groups[1]
    assert "Sum 2\xa0501\xa0kr" in groups[1]
    assert "Ola Avmeldt" not in page and "Per Venter" not in page


def test_marking_invoiced_takes_the_lines_out_once(client, organiser, course, notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"))
    form = {"buyer": f"org-{notodden.id}", "registration": [nils.id],
            "invoice_number": "2026-0042", **PERIOD}
    response = client.post(f"{BASIS}/mark", data=form, follow_redirects=True)
    assert "Merket som fakturert på faktura 2026-0042." in response.text
    [line] = db.session.scalars(select(InvoiceLine))
    assert (line.registration_id, line.buyer_organisation_id, line.amount_ore,
            line.participant_name, line.course_title, line.invoiced_by_id) == (
        nils.id, notodden.id, 100_000, "Nils Notodden", "Brannvern", organiser.id)
    again = client.post(f"{BASIS}/mark", data=form, follow_redirects=True).text
    assert "Det er ikke noe igjen å fakturere for denne kjøperen i perioden." in again
    assert db.session.scalar(select(func.count()).select_from(InvoiceLine)) == 1
    page = client.get(BASIS, query_string=PERIOD).text
    assert "Ingenting å fakturere i perioden." in page and "2026-0042" in page


def test_lines_charged_after_the_page_was_shown_wait_for_the_next_invoice(
        client, organiser, course, notodden):
    shown = seat(course, member(notodden, name="Vist"))
    late = seat(course, member(notodden, name="Kom senere"))
    client.post(f"{BASIS}/mark", data={"buyer": f"org-{notodden.id}",
                                       "registration": [shown.id],
                                       "invoice_number": "F-1", **PERIOD})
    assert [line.registration_id for line in db.session.scalars(select(InvoiceLine))] == [
        shown.id]
    assert "Kom senere" in client.get(BASIS, query_string=PERIOD).text
    assert late.id not in {line.registration_id for line in db.session.scalars(
        select(InvoiceLine))}


def test_an_invoice_number_belongs_to_one_buyer(client, organiser, course, kongsberg,
                                                notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"))
    kari = seat(course, member(kongsberg, name="Kari Kongsberg"))
    client.post(f"{BASIS}/mark", data={"buyer": f"org-{notodden.id}",
                                       "registration": [nils.id], "invoice_number": "F-9",
                                       **PERIOD})
    refused = client.post(f"{BASIS}/mark", data={
        "buyer": f"org-{kongsberg.id}", "registration": [kari.id], "invoice_number": "F-9",
        **PERIOD}, follow_redirects=True).text
    assert "Faktura F-9 er til Notodden kommune. Gi denne fakturaen et eget nummer." in refused
    assert refused.count("Faktura F-9 er til") == 1  # said once, not twice
    assert [line.registration_id for line in db.session.scalars(select(InvoiceLine))] == [
        nils.id]


def test_only_organisers_of_the_host_see_its_basis(client, login, course, kongsberg, notodden):
    login(member(kongsberg, Role.EMPLOYEE))
    assert client.get(BASIS).status_code == 403
    client.post("/logout")
    login(member(notodden, Role.ADMIN))
    assert client.get(BASIS).status_code == 404
    assert client.get("/o/notodden/admin/invoicing").status_code == 200
    seat(course, member(notodden, name="Skjult"))
    assert "Skjult" not in client.get("/o/notodden/admin/invoicing",
                                      query_string=PERIOD).text


def test_the_sql_rule_equals_the_python_rule(kongsberg):
    """Every combination of state, fee, no-show charging and late cancellation."""
    courses = {charge: CourseFactory(organisation=kongsberg, charge_no_shows=charge)
               for charge in (True, False)}
    combinations = itertools.product(list(S), (None, 0, 5000), (True, False), (True, False))
    for number, (state, fee, charge, late) in enumerate(combinations):
        seat(courses[charge], guest_name=f"Person {number}", state=state, fee=fee,
             charged_cancellation=late)
    in_sql = set(db.session.scalars(select(Registration.id).join(Course).where(
        charged_clause())))
    in_python = {r.id for r in db.session.scalars(select(Registration)) if fees.is_charged(r)}
    # confirmed or attended: 2 × 2 × 2; no-show when charged: 2; late cancellation: 2
    assert in_sql == in_python and len(in_python) == 12


def test_an_invoice_downloads_as_valid_ehf(client, organiser, course, kongsberg, notodden,
                                           validator):
    nils = seat(course, member(notodden, name="Nils Notodden"), own_reference="K-77")
    client.post(f"{BASIS}/mark", data={"buyer": f"org-{notodden.id}",
                                       "registration": [nils.id],
                                       "invoice_number": "2026-0042", **PERIOD})
    refused = client.get(f"{BASIS}/ehf", query_string={"number": "2026-0042"},
                         follow_redirects=True).text
    assert "Kongsberg kommune har ikke organisasjonsnummer" in refused
    kongsberg.org_number, kongsberg.invoice_postcode = "964338531", "3616"
    notodden.org_number, notodden.buyer_reference = "987654325", "Oppvekst 12"
    db.session.commit()
    response = client.get(f"{BASIS}/ehf", query_string={"number": "2026-0042"})
    assert response.mimetype == "application/xml"
    assert validator.problems(response.data) == [] and peppol_problems(response.data) == []
    root = ET.fromstring(response.data)
    assert root.findtext("cbc:BuyerReference", namespaces=NS) == "Oppvekst 12"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "1000.00"
    assert "Nils Notodden" in root.findtext(
        "cac:InvoiceLine/cac:Item/cbc:Description", namespaces=NS)
    assert client.get(f"{BASIS}/ehf", query_string={"number": "finnes-ikke"}).status_code == 404


def test_the_buyer_admin_sees_what_its_employees_were_charged(client, login, course,
                                                              kongsberg, notodden):
    invoiced = seat(course, member(notodden, name="Nils Notodden"), own_reference="K-77")
    seat(course, member(notodden, name="Nora Notodden"), fee=125_050)
    seat(course, member(kongsberg, name="Kari Kongsberg"))  # another buyer
    login(member(kongsberg, Role.ORGANISER))
    client.post(f"{BASIS}/mark", data={"buyer": f"org-{notodden.id}",
                                       "registration": [invoiced.id],
                                       "invoice_number": "2026-7", **PERIOD})
    client.post("/logout")
    login(member(notodden, Role.ADMIN))
    page = client.get("/o/notodden/admin/charges", query_string=PERIOD).text
    done, coming = page.split('id="coming-heading"')
    assert "Nils Notodden" in done and "2026-7" in done and "Kongsberg kommune" in done
    assert "Sum 1\xa0000\xa0kr" in done and "Nora Notodden" not in done
    assert "Nora Notodden" in coming and "1\xa0250,50\xa0kr" in coming
    assert "Kari Kongsberg" not in page
    client.post("/logout")
    login(member(notodden, Role.ORGANISER))
    assert client.get("/o/notodden/admin/charges").status_code == 403


def test_the_downloads_carry_the_same_lines_and_totals_as_the_page(
        client, organiser, course, kongsberg, notodden):
    seat(course, member(kongsberg, name="Kari Kongsberg"))
    seat(course, member(notodden, name="Nils Notodden"), fee=125_050, own_reference="=SUM(A1)")
    seat(course, guest_name="Gro Gjest", fee=150_000)
    page = client.get(BASIS, query_string=PERIOD).text
    page_total = sum(int(kroner.replace("\xa0", "")) * 100 + int(ore or 0)
                     for kroner, ore in re.findall(r"Sum ([\d\xa0]+)(?:,(\d\d))?\xa0kr", page))
    rows = list(csv.reader(io.StringIO(
        client.get(f"{BASIS}/basis.csv", query_string=PERIOD).data.decode("utf-8-sig")),
        delimiter=";"))
    assert rows[0][:4] == ["Kjøper", "Organisasjonsnummer", "Kjøpers referanse", "Deltaker"]
    csv_total = sum(round(float(row[7].replace(",", ".")) * 100) for row in rows[1:])
    assert "'=SUM(A1)" in [row[4] for row in rows]  # no formula reaches the spreadsheet
    sheet = load_workbook(io.BytesIO(client.get(f"{BASIS}/basis.xlsx",
                                                query_string=PERIOD).data)).active
    xlsx_total = sum(round(row[7] * 100) for row in sheet.iter_rows(min_row=2, values_only=True))
    assert page_total == csv_total == xlsx_total == 375_050 and len(rows) == 4
