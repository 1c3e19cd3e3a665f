"""Invoice the demo history the way a host's organiser would, month by month.

For every course month that ended more than about two months ago, each host marks its
charged places as invoiced per buyer through the billing services (``to_invoice`` and
``mark_invoiced``), with invoice numbers like ``2026-0042`` counted per host and year.
The lines (and their audit entries) are dated the 20th of the following month, when the
invoices would have gone out; the last months are left for the invoice basis page.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from frikomport.audit.models import AuditEvent
from frikomport.billing.models import InvoiceLine
from frikomport.billing.services import mark_invoiced, to_invoice
from frikomport.tenancy.models import Organisation
from frikomport.timeutil import local_to_utc, month_bounds, to_local

INVOICED_AFTER = timedelta(days=60)
INVOICE_DAY = 20  # of the month after the courses


def invoice_history(session: Session, organisations: list[Organisation], organisers: dict,
                    first: date, now: datetime) -> int:
    """Mark the charged places of courses in months that ended before ``now`` minus about
    two months as invoiced; return the number of invoices."""
    invoices = 0
    for organisation in organisations:
        numbers: Counter[int] = Counter()
        for year, month in _months(first, now - INVOICED_AFTER):
            invoices += _invoice_month(session, organisation, organisers[organisation.id],
                                       year, month, numbers)
    return invoices


def _months(first: date, cutoff: datetime):
    """(year, month) from ``first``'s month while the month has ended by ``cutoff``."""
    year, month = first.year, first.month
    while month_bounds(year, month)[1] <= cutoff:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _invoice_month(session: Session, organisation: Organisation, actor, year: int,
                   month: int, numbers: Counter) -> int:
    starts, ends = month_bounds(year, month)
    following = to_local(ends).date()
    invoiced_at = local_to_utc(following.replace(day=INVOICE_DAY), time(10))
    groups = to_invoice(session, actor, organisation, starts, ends)
    for group in groups:
        numbers[invoiced_at.year] += 1
        number = f"{invoiced_at.year}-{numbers[invoiced_at.year]:04d}"
        mark_invoiced(session, actor, organisation, group, number)
        _backdate(session, organisation, number, invoiced_at)
    return len(groups)


def _backdate(session: Session, organisation: Organisation, number: str,
              invoiced_at: datetime) -> None:
    """Date the audit entry just recorded (not flushed yet), and the invoice's lines,
    when the invoice was sent."""
    for entry in session.new:
        if isinstance(entry, AuditEvent) and entry.action == "billing.invoiced":
            entry.created_at = invoiced_at
    session.execute(update(InvoiceLine).where(
        InvoiceLine.organisation_id == organisation.id,
        InvoiceLine.invoice_number == number).values(invoiced_at=invoiced_at))
