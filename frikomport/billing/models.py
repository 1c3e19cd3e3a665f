"""Invoice lines: what a host organisation has invoiced for its courses, and to whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.db import UTCDateTime, db, utcnow
from frikomport.tenancy.models import Organisation


class InvoiceLine(db.Model):
    """One participant's fee as invoiced, with invoice number, who marked it and when.

    Tenant-owned by the host (the seller). The participant, course and buyer are copied
    in as well as linked: the accounts must still read the line after the registration
    has been deleted under the retention rules. One line per registration: the database
    refuses a second, so nothing is invoiced twice, even by two organisers at once.
    """

    __tablename__ = "invoice_line"
    __table_args__ = (
        Index("uq_invoice_line_registration", "registration_id", unique=True,
              sqlite_where=text("registration_id IS NOT NULL"),
              postgresql_where=text("registration_id IS NOT NULL")),
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
    invoice_number: Mapped[str] = mapped_column(String(40))
    invoiced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invoiced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id],
                                                      lazy="joined")  # the host
