"""An EHF invoice or credit note for lines already marked under one number.

The finance system issues the invoice; the portal hands it the lines as EHF (PEPPOL BIS
Billing 3.0) so nobody types them in again. Both parties need an organisation number
(the EHF address), and the buyer a reference to route the invoice by. A number whose
lines are credit lines is a credit note: it refers to the invoice it credits and, as
PEPPOL wants, states the credited amounts as positive numbers.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.billing import ehf
from frikomport.billing.models import InvoiceLine
from frikomport.billing.orgnumber import is_valid_org_number
from frikomport.errors import DomainError, NotFoundError
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Organisation
from frikomport.timeutil import to_local

PAYMENT_DAYS = 30


def ehf_invoice(session: Session, actor, organisation: Organisation, number: str) -> bytes:
    """The EHF XML of invoice (or credit note) ``number`` of this host organisation."""
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    lines = list(session.scalars(select(InvoiceLine).where(
        InvoiceLine.organisation_id == organisation.id, InvoiceLine.invoice_number == number)
        .order_by(InvoiceLine.id)))
    if not lines:
        raise NotFoundError()
    buyer = session.get(Organisation, lines[0].buyer_organisation_id or 0)
    if buyer is None:
        raise DomainError(_("EHF goes to organisations in the portal; invoice a guest "
                            "directly."))
    for party in (organisation, buyer):
        if not is_valid_org_number(party.org_number):
            raise DomainError(_("%(name)s has no organisation number in its settings, so "
                                "there is no EHF address.", name=party.name))
    issued = to_local(lines[0].invoiced_at).date()
    credited = _credited_invoice(lines)
    return ehf.to_xml(ehf.Document(
        number=number, issue_date=issued,
        due_date=None if credited else issued + timedelta(days=PAYMENT_DAYS),
        seller=_party(organisation, seller=True), buyer=_party(buyer, seller=False),
        buyer_reference=_buyer_reference(buyer, lines), lines=tuple(map(_line, lines)),
        credited_invoice=credited))


def _credited_invoice(lines: list[InvoiceLine]) -> str | None:
    """The number of the invoice the lines credit; None for an invoice's own lines."""
    credited = {line.credited_line.invoice_number if line.is_credit else None
                for line in lines}
    if len(credited) != 1:  # the services keep one number to one document
        raise DomainError(_("The lines under this number belong to more than one invoice "
                            "or credit note, so they cannot be one EHF document."))
    return credited.pop()


def _party(organisation: Organisation, seller: bool) -> ehf.Party:
    vat = (f"NO{organisation.org_number}MVA" if seller and organisation.vat_registered
           else "")
    return ehf.Party(
        name=organisation.name, org_number=organisation.org_number,
        street=organisation.invoice_street, postcode=organisation.invoice_postcode,
        city=organisation.invoice_city,
        email=(organisation.invoice_email or organisation.contact_email) if seller else "",
        vat_number=vat)


def _buyer_reference(buyer: Organisation, lines: list[InvoiceLine]) -> str:
    """The buyer's own reference; else the one the participants gave, if they agree."""
    if buyer.buyer_reference:
        return buyer.buyer_reference
    given = {line.reference for line in lines if line.reference}
    if len(given) == 1:
        return given.pop()
    raise DomainError(_("%(name)s has no buyer reference in its settings, and the "
                        "participants gave none or several. Ask the buyer for one.",
                        name=buyer.name))


def _line(line: InvoiceLine) -> ehf.Line:
    when = to_local(line.course_starts_at).date().isoformat() if line.course_starts_at else ""
    details = ", ".join(part for part in (line.participant_name, when, line.reference) if part)
    return ehf.Line(line_id=str(line.id), name=line.course_title, description=details,
                    amount_ore=abs(line.amount_ore))  # a credit note's lines are positive
