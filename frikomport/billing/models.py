"""Invoice lines: what a host organisation has invoiced for its courses, and to whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.db import UTCDateTime, db, utcnow
from frikomport.tenancy.models import Organisation

# The invoice lines proper (not credit lines) of registrations that still exist.
_INVOICED_SQL = "registration_id IS NOT NULL AND credited_line_id IS NULL"


class InvoiceLine(db.Model):
    """One participant's fee as invoiced, with invoice number, who marked it and when.

    Tenant-owned by the host (the seller). The participant, course and buyer are copied
    in as well as linked: the accounts must still read the line after the registration
    has been deleted under the retention rules. One line per registration: the database
    refuses a second, so nothing is invoiced twice, even by two organisers at once.

    A credit line (``credited_line_id`` set) takes an invoiced line back when its fee is
    waived afterwards: the same registration, participant, course and buyer, minus the
    invoiced amount, under the number of the credit note. A line is credited once at most
    (a unique index), and a registration has one invoice line and at most one credit line.
    """

    __tablename__ = "invoice_line"
    __table_args__ = (
        Index("uq_invoice_line_registration", "registration_id", unique=True,
              sqlite_where=text(_INVOICED_SQL), postgresql_where=text(_INVOICED_SQL)),
        Index("uq_invoice_line_credited_line_id", "credited_line_id", unique=True),
        Index("ix_invoice_line_organisation_invoiced_at", "organisation_id", "invoiced_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"))
    buyer_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(200))
    participant_name: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))
    course_title: Mapped[str] = mapped_column(String(200))
    course_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reference: Mapped[str] = mapped_column(String(100), default="")
    amount_ore: Mapped[int] = mapped_column(Integer)
    invoice_number: Mapped[str] = mapped_column(String(40))  # a credit note's on credit lines
    invoiced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invoiced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    # Set on a credit line: the invoiced line it takes back.
    credited_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice_line.id", ondelete="CASCADE"))

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id],
                                                      lazy="joined")  # the host
    credited_line: Mapped[InvoiceLine | None] = relationship(
        remote_side=[id], foreign_keys=[credited_line_id], back_populates="credit_line")
    credit_line: Mapped[InvoiceLine | None] = relationship(
        foreign_keys=[credited_line_id], back_populates="credited_line", uselist=False)

    @property
    def is_credit(self) -> bool:
        return self.credited_line_id is not None
