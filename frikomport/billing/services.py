"""The invoice basis (fakturagrunnlag): what a host organisation has to invoice, per buyer.

A registration is to be invoiced when its fee is charged (see :mod:`.fees`; the same
rule in SQL below) and it has no invoice line yet. Marking a buyer's lines as invoiced
writes one :class:`InvoiceLine` per registration with the invoice number; the unique
index on the registration makes a second marking fail instead of invoicing twice. A fee
waived after it was invoiced gets a credit line (see :mod:`.credits`); the registration
then has two lines and is never in the basis again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, selectinload

from frikomport.audit.services import record
from frikomport.billing.models import InvoiceLine
from frikomport.courses.models import Course
from frikomport.db import lock_rows
from frikomport.errors import DomainError
from frikomport.inputs import single_line
from frikomport.permissions import Permission, ensure
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.tenancy.models import Organisation

State = RegistrationState
GUEST = "guest"


def charged_clause():
    """:func:`fees.is_charged` in SQL (a test holds the two to the same answers)."""
    return and_(Registration.fee_ore > 0, or_(
        Registration.state.in_((State.CONFIRMED, State.ATTENDED)),
        and_(Registration.state == State.NO_SHOW, Course.charge_no_shows.is_(True)),
        and_(Registration.state == State.CANCELLED,
             Registration.charged_cancellation.is_(True))))


@dataclass
class BuyerGroup:
    """One buyer's lines: an organisation in the portal, or one guest (who pays alone)."""

    key: str  # "org-<id>" or "guest-<registration id>"
    name: str
    organisation: Organisation | None
    registrations: list[Registration] = field(default_factory=list)

    @property
    def total_ore(self) -> int:
        return sum(r.fee_ore for r in self.registrations)


def _not_invoiced():
    """No line at all: an invoiced registration, and a credited one, stay out."""
    return ~exists().where(InvoiceLine.registration_id == Registration.id)


def to_invoice(session: Session, actor, organisation: Organisation, starts: datetime,
               ends: datetime) -> list[BuyerGroup]:
    """Charged, not yet invoiced registrations of the courses that start in the period,
    grouped by buyer (organisations by name first, then guests)."""
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    rows = session.scalars(
        select(Registration).join(Registration.course)
        .options(contains_eager(Registration.course))
        .where(Registration.organisation_id == organisation.id,
               Course.starts_at >= starts, Course.starts_at < ends,
               charged_clause(), _not_invoiced())
        .order_by(Course.starts_at, Course.id, Registration.name, Registration.id))
    groups: dict[str, BuyerGroup] = {}
    for registration in rows:
        key = _buyer_key(registration)
        if key not in groups:
            groups[key] = BuyerGroup(key, registration.employer_label, registration.employer)
        groups[key].registrations.append(registration)
    return sorted(groups.values(), key=lambda g: (g.key.startswith(GUEST), g.name.lower()))


def _buyer_key(registration: Registration) -> str:
    if registration.user_id is None or registration.employer_organisation_id is None:
        return f"{GUEST}-{registration.id}"
    return f"org-{registration.employer_organisation_id}"


def mark_invoiced(session: Session, actor, organisation: Organisation, group: BuyerGroup,
                  invoice_number: str) -> int:
    """Record the group's registrations as invoiced under ``invoice_number``."""
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    number = single_line(invoice_number)[:40]
    if not number:
        raise DomainError(_("Write the invoice number."))
    if session.scalar(select(exists().where(InvoiceLine.organisation_id == organisation.id,
                                            InvoiceLine.invoice_number == number,
                                            InvoiceLine.credited_line_id.is_not(None)))):
        raise DomainError(_("%(number)s is the number of a credit note. Give the invoice "
                            "its own number.", number=number))
    _refuse_other_buyers_number(session, organisation, group, number)
    _lock_unchanged(session, group.registrations)
    for registration in group.registrations:
        session.add(_line(organisation, registration, group, number, actor))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise DomainError(_("Some of these lines were marked as invoiced meanwhile. "
                            "Look at the list again.")) from None
    record(session, actor, "billing.invoiced", organisation, organisation, number=number,
           buyer=group.name, lines=len(group.registrations))
    return len(group.registrations)


def _refuse_other_buyers_number(session: Session, organisation: Organisation,
                                group: BuyerGroup, number: str) -> None:
    """One invoice has one buyer: a number already on another buyer's lines is refused
    (its EHF would otherwise bill one buyer for the other's participants)."""
    buyer_id = group.organisation.id if group.organisation else None
    other = session.scalar(select(InvoiceLine.buyer_name).where(
        InvoiceLine.organisation_id == organisation.id, InvoiceLine.invoice_number == number,
        (InvoiceLine.buyer_organisation_id.is_distinct_from(buyer_id))
        | (InvoiceLine.buyer_name != group.name[:200])).limit(1))
    if other is not None:
        raise DomainError(_("Invoice %(number)s is to %(buyer)s. Give this invoice its own "
                            "number.", number=number, buyer=other))


def _lock_unchanged(session: Session, registrations: list[Registration]) -> None:
    """Lock the rows and read them again (a fee waived at the same moment is then waited
    for, or seen): a fee changed since the page was shown refuses the marking."""
    shown = {registration.id: registration.fee_ore for registration in registrations}
    fresh = lock_rows(session, Registration, shown)
    if any(registration.fee_ore != shown[registration.id] for registration in fresh):
        raise DomainError(_("A fee was waived or changed meanwhile. Look at the list again."))


def _line(organisation, registration, group, number, actor) -> InvoiceLine:
    course = registration.course
    return InvoiceLine(
        organisation_id=organisation.id, registration_id=registration.id,
        buyer_organisation_id=group.organisation.id if group.organisation else None,
        buyer_name=group.name[:200], participant_name=registration.name,
        course_id=course.id, course_title=course.title, course_starts_at=course.starts_at,
        reference=registration.own_reference, amount_ore=registration.fee_ore,
        invoice_number=number, invoiced_by_id=getattr(actor, "id", None))


def shown_group(groups: list[BuyerGroup], key: str, shown: set[int]) -> BuyerGroup:
    """The buyer's group with only the registrations the organiser was shown: lines that
    became chargeable since are left for the next invoice, not swept into this one."""
    found = next((group for group in groups if group.key == key), None)
    registrations = [r for r in found.registrations if r.id in shown] if found else []
    if not registrations:
        raise DomainError(_("There is nothing left to invoice for this buyer in the period."))
    return BuyerGroup(found.key, found.name, found.organisation, registrations)


def invoiced(session: Session, actor, organisation: Organisation, starts: datetime,
             ends: datetime) -> dict[str, list[InvoiceLine]]:
    """The lines invoiced in the period, by invoice or credit note number, in the order
    they were written, each with its credit line or the line it credits."""
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    lines = session.scalars(
        select(InvoiceLine).where(InvoiceLine.organisation_id == organisation.id,
                                  InvoiceLine.invoiced_at >= starts,
                                  InvoiceLine.invoiced_at < ends)
        .options(selectinload(InvoiceLine.credit_line), selectinload(InvoiceLine.credited_line))
        .order_by(InvoiceLine.id))
    by_number: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        by_number[line.invoice_number].append(line)
    return dict(by_number)


@dataclass
class Charges:
    """What an organisation's employees have been charged for, by the hosts."""

    invoiced: list[InvoiceLine]  # credit lines too, with their negative amounts
    coming: list[Registration]  # charged, not invoiced yet

    @property
    def total_ore(self) -> int:
        return sum(line.amount_ore for line in self.invoiced)


def charges_to(session: Session, actor, organisation: Organisation, starts: datetime,
               ends: datetime) -> Charges:
    """The invoice lines to this organisation in the period, and its employees' charged
    places (courses starting in the period) that the hosts have not invoiced yet."""
    ensure(actor, Permission.EDIT_ORGANISATION, organisation)
    invoiced = session.scalars(
        select(InvoiceLine).where(InvoiceLine.buyer_organisation_id == organisation.id,
                                  InvoiceLine.invoiced_at >= starts,
                                  InvoiceLine.invoiced_at < ends)
        .options(selectinload(InvoiceLine.credited_line))
        .order_by(InvoiceLine.invoiced_at, InvoiceLine.id))
    coming = session.scalars(
        select(Registration).join(Registration.course)
        .options(contains_eager(Registration.course))
        .where(Registration.employer_organisation_id == organisation.id,
               Registration.user_id.is_not(None),
               Course.starts_at >= starts, Course.starts_at < ends,
               charged_clause(), _not_invoiced())
        .order_by(Course.starts_at, Registration.name))
    return Charges(list(invoiced), list(coming))
