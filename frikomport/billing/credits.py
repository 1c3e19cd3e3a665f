"""Waiving a fee, and crediting it when it has been invoiced already.

A waived fee is 0 on the registration (the fee's kind is kept), so the charge rule no
longer charges it and it leaves the invoice basis. When the fee was invoiced, the same
transaction writes a credit line: minus the invoiced amount, pointing at the invoiced
line, under the number of the credit note the organiser gives. A line is credited once
(a unique index backs this up), and a credited registration never comes back in the
basis (it still has lines). Every waiver is in the audit log with its reason.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.billing.models import InvoiceLine
from frikomport.billing.money import kroner_text
from frikomport.db import lock_row
from frikomport.errors import DomainError
from frikomport.inputs import single_line
from frikomport.permissions import Permission, ensure
from frikomport.registrations.models import Registration
from frikomport.tenancy.models import Organisation
from frikomport.tenancy.scoping import get_scoped

REASON_MAX = 300
NUMBER_MAX = 40


def waive_fee(session: Session, actor, organisation: Organisation, registration_id: int,
              reason: str, credit_note_number: str = "") -> InvoiceLine | None:
    """Waive the fee of one of the host's registrations; the credit line when it had
    been invoiced (then ``credit_note_number`` is required), else None. The caller
    commits."""
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    get_scoped(session, Registration, organisation, registration_id)  # 404 for others
    registration = lock_row(session, Registration, registration_id)  # vs. mark_invoiced
    reason = single_line(reason)[:REASON_MAX]
    if not reason:
        raise DomainError(_("Write why the fee is waived."))
    if not registration.fee_ore:
        raise DomainError(_("%(name)s has no fee to waive.", name=registration.name))
    invoiced = session.scalar(select(InvoiceLine).where(
        InvoiceLine.registration_id == registration.id,
        InvoiceLine.credited_line_id.is_(None)))
    amount = invoiced.amount_ore if invoiced else registration.fee_ore
    credit = None if invoiced is None else _credit(session, actor, organisation, invoiced,
                                                     credit_note_number)
    registration.fee_ore = 0
    details = {"participant": registration.name, "course": registration.course.title,
               "amount": f"{kroner_text(amount, ',')} kr", "reason": reason}
    if credit is None:
        record(session, actor, "billing.waived", registration, organisation, **details)
    else:
        record(session, actor, "billing.credited", registration, organisation,
               credit_note=credit.invoice_number, invoice=invoiced.invoice_number, **details)
    return credit


def waive_fees(session: Session, actor, organisation: Organisation, registration_ids,
               reason: str, credit_note_number: str = "") -> list[InvoiceLine | None]:
    """Waive several fees at once (all or none); invoiced ones are credited on the one
    credit note. Per registration its credit line, or None."""
    ids = sorted(set(registration_ids))
    if not ids:
        raise DomainError(_("Choose whose fee to waive."))
    return [waive_fee(session, actor, organisation, registration_id, reason,
                      credit_note_number) for registration_id in ids]


def _credit(session: Session, actor, organisation: Organisation, invoiced: InvoiceLine,
            credit_note_number: str) -> InvoiceLine:
    number = single_line(credit_note_number)[:NUMBER_MAX]
    if not number:
        raise DomainError(_("The fee of %(name)s is on invoice %(invoice)s. Write the number "
                            "of the credit note.", name=invoiced.participant_name,
                            invoice=invoiced.invoice_number))
    _check_number(session, organisation, number, invoiced)
    credit = InvoiceLine(
        organisation_id=organisation.id, registration_id=invoiced.registration_id,
        buyer_organisation_id=invoiced.buyer_organisation_id, buyer_name=invoiced.buyer_name,
        participant_name=invoiced.participant_name, course_id=invoiced.course_id,
        course_title=invoiced.course_title, course_starts_at=invoiced.course_starts_at,
        reference=invoiced.reference, amount_ore=-invoiced.amount_ore, invoice_number=number,
        invoiced_by_id=getattr(actor, "id", None), credited_line_id=invoiced.id)
    session.add(credit)
    try:
        session.flush()
    except IntegrityError:  # the unique index: someone credited it meanwhile
        session.rollback()
        raise DomainError(_("The fee of %(name)s has been credited already.",
                            name=invoiced.participant_name)) from None
    return credit


def _check_number(session: Session, organisation: Organisation, number: str,
                  invoiced: InvoiceLine) -> None:
    """A credit note credits one invoice, and its number is no invoice's number (the EHF
    download finds a document by its number)."""
    for line in session.scalars(select(InvoiceLine).where(
            InvoiceLine.organisation_id == organisation.id,
            InvoiceLine.invoice_number == number)):
        if not line.is_credit:
            raise DomainError(_("%(number)s is the number of an invoice. Give the credit "
                                "note its own number.", number=number))
        if line.credited_line.invoice_number != invoiced.invoice_number:
            raise DomainError(_("Credit note %(number)s credits invoice %(invoice)s. Give "
                                "this credit note its own number.", number=number,
                                invoice=line.credited_line.invoice_number))
