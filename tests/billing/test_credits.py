"""Waiving a fee: before invoicing it leaves the basis; after invoicing a credit line
takes the invoiced amount back (once), on a credit note that downloads as EHF.

The pages are read in English (the organisers' accounts say so), and so are the services'
messages, so the assertions do not depend on the Norwegian catalogues.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from frikomport.audit.models import AuditEvent
from frikomport.audit.sentences import describe
from frikomport.billing import credits, services
from frikomport.billing.models import InvoiceLine
from frikomport.errors import DomainError, NotFoundError
from frikomport.extensions import db
from frikomport.privacy.export import collect
from frikomport.registrations.models import Registration
from frikomport.tenancy.models import Role
from tests.billing.ehf_checks import NS, peppol_problems
from tests.billing.test_invoice_basis import BASIS, PERIOD, seat
from tests.factories import CourseFactory, in_days, member

WAIVE = f"{BASIS}/waive"
FAR = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def english(app):
    """The services' messages in English too, as the organisers here read the pages."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def organiser(client, login, kongsberg):
    person = member(kongsberg, Role.ORGANISER, name="Ola Organiser", locale="en")
    login(person)
    return person


def basis_ids(organiser, kongsberg) -> set[int]:
    groups = services.to_invoice(db.session, organiser, kongsberg, *FAR)
    return {r.id for group in groups for r in group.registrations}


def invoice(client, buyer, registrations, number="2026-0042"):
    response = client.post(f"{BASIS}/mark", data={
        "buyer": f"org-{buyer.id}", "registration": [r.id for r in registrations],
        "invoice_number": number, **PERIOD})
    assert response.status_code == 302
    return db.session.scalar(select(InvoiceLine).where(
        InvoiceLine.registration_id == registrations[0].id))


def lines() -> list[InvoiceLine]:
    db.session.expire_all()
    return list(db.session.scalars(select(InvoiceLine).order_by(InvoiceLine.id)))


def test_a_fee_waived_before_invoicing_leaves_the_basis(client, organiser, course, kongsberg,
                                                        notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"), fee_kind="region")
    nora = seat(course, member(notodden, name="Nora Notodden"))
    assert basis_ids(organiser, kongsberg) == {nils.id, nora.id}
    page = client.get(BASIS, query_string=PERIOD).text
    assert f'id="waive-{nils.id}"' in page and 'name="reason"' in page
    response = client.post(WAIVE, data={"registration": [nils.id],
                                        "reason": "Kursholder for en dag", **PERIOD})
    assert response.status_code == 302 and "from=2000-01-01" in response.location
    db.session.expire_all()
    assert (nils.fee_ore, nils.fee_kind, nora.fee_ore) == (0, "region", 100_000)
    assert basis_ids(organiser, kongsberg) == {nora.id} and lines() == []
    assert f'id="waive-{nils.id}"' not in client.get(BASIS, query_string=PERIOD).text
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "billing.waived"))
    assert (event.object_type, event.object_id, event.organisation_id) == (
        "registration", nils.id, kongsberg.id)
    assert event.details == {"participant": "Nils Notodden", "course": "Brannvern",
                             "amount": "1000,00 kr", "reason": "Kursholder for en dag"}


def test_a_waiver_needs_a_reason_and_a_fee(organiser, course, kongsberg, notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"))
    free = seat(course, member(notodden, name="Gratis"), fee=0)
    unfixed = seat(course, member(notodden, name="Uten pris"), fee=None)
    with pytest.raises(DomainError, match="why"):
        credits.waive_fee(db.session, organiser, kongsberg, nils.id, "  \n ")
    for registration in (free, unfixed):
        with pytest.raises(DomainError, match="no fee to waive"):
            credits.waive_fee(db.session, organiser, kongsberg, registration.id, "Grunn")
    with pytest.raises(DomainError, match="Choose"):
        credits.waive_fees(db.session, organiser, kongsberg, [], "Grunn")
    db.session.rollback()
    assert nils.fee_ore == 100_000


def test_an_invoiced_fee_is_credited_and_never_invoiced_again(
        client, login, organiser, course, kongsberg, notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"), own_reference="K-77")
    invoiced = invoice(client, notodden, [nils])
    page = client.get(BASIS, query_string=PERIOD).text
    assert f'id="credit-{invoiced.id}"' in page and 'name="credit_note_number"' in page
    client.post(WAIVE, data={"registration": [nils.id], "reason": "Kurset ble avlyst for ham",
                             "credit_note_number": " K-7 ", **PERIOD})
    original, credit = lines()
    assert original.id == invoiced.id and original.amount_ore == 100_000
    assert (credit.amount_ore, credit.credited_line_id, credit.invoice_number,
            credit.registration_id, credit.buyer_organisation_id, credit.buyer_name,
            credit.participant_name, credit.course_id, credit.course_title,
            credit.course_starts_at, credit.reference, credit.invoiced_by_id) == (
        -100_000, original.id, "K-7", nils.id, notodden.id, "Notodden kommune",
        "Nils Notodden", course.id, "Brannvern", original.course_starts_at, "K-77",
        organiser.id)
    assert credit.invoiced_at is not None and original.credit_line is credit
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "billing.credited"))
    assert event.details == {"participant": "Nils Notodden", "course": "Brannvern",
                             "amount": "1000,00 kr", "reason": "Kurset ble avlyst for ham",
                             "credit_note": "K-7", "invoice": "2026-0042"}
    described = describe(event, {})
    assert "Ola Organiser waived the fee of 1000,00 kr for Nils Notodden" in described.sentence
    assert "from invoice 2026-0042 on credit note K-7" in described.sentence
    assert [label for label, _value in described.facts] == ["Reason"]
    # Even with a fee again (a mistake, or a bug elsewhere) the lines keep it out.
    db.session.execute(update(Registration).where(Registration.id == nils.id)
                       .values(fee_ore=100_000))
    db.session.commit()
    assert basis_ids(organiser, kongsberg) == set()
    page = client.get(BASIS, query_string=PERIOD).text
    assert "Credit note for invoice 2026-0042" in page and "-NOK1,000" in page
    assert "Credited on credit note K-7" in page and f'id="credit-{invoiced.id}"' not in page
    # The buyer sees the invoice and the credit note, and a total of 0.
    client.post("/logout")
    login(member(notodden, Role.ADMIN, locale="en"))
    charges = services.charges_to(db.session, member(notodden, Role.ADMIN), notodden, *FAR)
    assert [line.amount_ore for line in charges.invoiced] == [100_000, -100_000]
    assert charges.total_ore == 0 and charges.coming == []
    done = client.get("/o/notodden/admin/charges", query_string=PERIOD).text.split(
        'id="coming-heading"')[0]
    assert "Total NOK0<" in done and "-NOK1,000" in done and "K-7" in done
    assert "Credit note for invoice 2026-0042" in done


def test_a_line_is_credited_once(client, organiser, course, kongsberg, notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"))
    invoice(client, notodden, [nils])
    credits.waive_fee(db.session, organiser, kongsberg, nils.id, "Grunn", "K-1")
    db.session.commit()
    with pytest.raises(DomainError, match="no fee to waive"):
        credits.waive_fee(db.session, organiser, kongsberg, nils.id, "Igjen", "K-2")
    db.session.rollback()
    # Had the fee come back, the database would still refuse a second credit line.
    db.session.execute(update(Registration).where(Registration.id == nils.id)
                       .values(fee_ore=100_000))
    db.session.commit()
    with pytest.raises(DomainError, match="credited already"):
        credits.waive_fee(db.session, organiser, kongsberg, nils.id, "Igjen", "K-2")
    db.session.rollback()
    assert [line.amount_ore for line in lines()] == [100_000, -100_000]


def test_a_credit_needs_its_own_credit_note_number(client, organiser, course, kongsberg,
                                                   notodden, flesberg):
    nils = seat(course, member(notodden, name="Nils Notodden"))
    nora = seat(course, member(notodden, name="Nora Notodden"))
    frida = seat(course, member(flesberg, name="Frida Flesberg"))
    invoice(client, notodden, [nils, nora], "F-1")
    invoice(client, flesberg, [frida], "F-2")
    refusals = {"": "Write the number of the credit note", "F-1": "number of an invoice",
                "F-2": "number of an invoice"}
    for number, message in refusals.items():
        with pytest.raises(DomainError, match=message):
            credits.waive_fee(db.session, organiser, kongsberg, nils.id, "Grunn", number)
        db.session.rollback()
    # One credit note may take back several lines of one invoice, not of two.
    assert len(credits.waive_fees(db.session, organiser, kongsberg, [nils.id, nora.id],
                                  "Avlyst", "K-1")) == 2
    db.session.commit()
    with pytest.raises(DomainError, match="credits invoice F-1"):
        credits.waive_fee(db.session, organiser, kongsberg, frida.id, "Grunn", "K-1")
    db.session.rollback()
    # …and an invoice cannot take a credit note's number.
    other = seat(course, member(notodden, name="Ny"))
    group = services.to_invoice(db.session, organiser, kongsberg, *FAR)[0]
    assert [r.id for r in group.registrations] == [other.id]
    with pytest.raises(DomainError, match="number of a credit note"):
        services.mark_invoiced(db.session, organiser, kongsberg, group, "K-1")
    db.session.rollback()
    assert [line.amount_ore for line in lines()] == [100_000, 100_000, 100_000, -100_000,
                                                     -100_000]


def test_the_form_refuses_without_a_number_and_changes_nothing(client, organiser, course,
                                                               notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"))
    nora = seat(course, member(notodden, name="Nora Notodden"))
    invoice(client, notodden, [nils])
    response = client.post(WAIVE, data={"registration": [nora.id, nils.id],
                                        "reason": "Grunn", **PERIOD}, follow_redirects=True)
    assert response.status_code == 200 and "Write the number of the credit note" in response.text
    db.session.expire_all()
    assert (nils.fee_ore, nora.fee_ore) == (100_000, 100_000)  # all or nothing
    assert len(lines()) == 1


def test_only_the_hosts_organisers_waive(client, login, course, kongsberg, notodden):
    nils = seat(course, member(notodden, name="Nils Notodden"))
    theirs = seat(CourseFactory(organisation=notodden, sessions=[in_days(-3)]),
                  member(notodden, name="Hos Notodden"))
    form = {"registration": [nils.id], "reason": "Grunn", **PERIOD}
    login(member(kongsberg, Role.EMPLOYEE))
    assert client.post(WAIVE, data=form).status_code == 403
    client.post("/logout")
    login(member(notodden, Role.ORGANISER))
    assert client.post(WAIVE, data=form).status_code == 404
    client.post("/logout")
    organiser = member(kongsberg, Role.ORGANISER)
    login(organiser)
    assert client.post(WAIVE, data={**form, "registration": [theirs.id]}).status_code == 404
    with pytest.raises(NotFoundError):
        credits.waive_fee(db.session, organiser, kongsberg, theirs.id, "Grunn")
    db.session.rollback()
    db.session.expire_all()
    assert (nils.fee_ore, theirs.fee_ore) == (100_000, 100_000)


def test_marking_refuses_a_fee_waived_since_the_page_was_read(organiser, course, kongsberg,
                                                              notodden):
    """The organiser marking and one waiving at the same moment: the marking locks the rows
    and reads them again, and sees the waiver (or the waiver waits for it, and then sees
    the invoice line and asks for a credit note)."""
    nils = seat(course, member(notodden, name="Nils Notodden"))
    [group] = services.to_invoice(db.session, organiser, kongsberg, *FAR)
    with db.engine.begin() as other:  # another request waives the fee meanwhile
        other.execute(update(Registration).where(Registration.id == nils.id).values(fee_ore=0))
    with pytest.raises(DomainError, match="waived or changed meanwhile"):
        services.mark_invoiced(db.session, organiser, kongsberg, group, "F-1")
    db.session.rollback()
    assert lines() == []


def test_a_credit_note_downloads_as_valid_ehf(client, organiser, course, kongsberg, notodden,
                                              validator):
    kongsberg.org_number, kongsberg.invoice_postcode = "964338531", "3616"
    notodden.org_number, notodden.buyer_reference = "987654325", "Oppvekst 12"
    db.session.commit()
    nils = seat(course, member(notodden, name="Nils Notodden"), own_reference="K-77")
    nora = seat(course, member(notodden, name="Nora Notodden"), fee=125_050)
    invoice(client, notodden, [nils, nora], "2026-0042")
    client.post(WAIVE, data={"registration": [nils.id, nora.id], "reason": "Avlyst",
                             "credit_note_number": "K-2026-1", **PERIOD})
    response = client.get(f"{BASIS}/ehf", query_string={"number": "K-2026-1"})
    assert response.status_code == 200 and response.mimetype == "application/xml"
    xml = response.data
    assert validator.problems(xml) == [] and peppol_problems(xml) == []
    root = ET.fromstring(xml)
    assert root.tag.endswith("}CreditNote")
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert root.find("cbc:DueDate", NS) is None
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
                         namespaces=NS) == "2026-0042"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "2250.50"
    assert [line.findtext("cbc:LineExtensionAmount", namespaces=NS)
            for line in root.iterfind("cac:CreditNoteLine", NS)] == ["1000.00", "1250.50"]
    assert {line.findtext("cbc:CreditedQuantity", namespaces=NS)
            for line in root.iterfind("cac:CreditNoteLine", NS)} == {"1"}
    original = client.get(f"{BASIS}/ehf", query_string={"number": "2026-0042"}).data
    assert ET.fromstring(original).tag.endswith("}Invoice") and validator.problems(original) == []


def test_the_persons_data_export_has_the_credit_line_too(client, organiser, course, notodden):
    person = member(notodden, name="Nils Notodden")
    nils = seat(course, person)
    invoice(client, notodden, [nils])
    credits.waive_fee(db.session, organiser, course.organisation, nils.id, "Grunn", "K-1")
    db.session.commit()
    [section] = [s for s in collect(db.session, person) if s.key == "invoice_lines"]
    assert sorted((row["invoice_number"], row["amount_ore"]) for row in section.rows) == [
        ("2026-0042", 100_000), ("K-1", -100_000)]
    assert db.session.scalar(select(func.count()).select_from(InvoiceLine)) == 2
