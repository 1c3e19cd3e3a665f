"""Registrations for courses and the history of every change to them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.accounts.models import User
from frikomport.courses.models import Course
from frikomport.db import UTCDateTime, db, utcnow
from frikomport.tenancy.models import Organisation


class RegistrationState(enum.StrEnum):
    PENDING = "pending"        # awaiting e-mail confirmation (guests) or organiser approval
    CONFIRMED = "confirmed"    # has a seat
    WAITLISTED = "waitlisted"  # in line for a seat, ordered by queued_at
    CANCELLED = "cancelled"
    REJECTED = "rejected"      # turned down by an organiser
    ATTENDED = "attended"
    NO_SHOW = "no_show"


ENDED_STATES = (RegistrationState.CANCELLED, RegistrationState.REJECTED)
# Seat holders: attendance is marked on confirmed registrations and still occupies the seat.
SEATED_STATES = (RegistrationState.CONFIRMED, RegistrationState.ATTENDED,
                 RegistrationState.NO_SHOW)
_ACTIVE_SQL = "state NOT IN ('cancelled', 'rejected')"
# A guest whose address is not confirmed yet blocks nobody (anyone can type any address).
_STATISTICS_COLUMNS = ("employer_organisation_id", "fee_ore", "charged_cancellation",
                       "queued_at")
_COUNTS_SQL = _ACTIVE_SQL + " AND (user_id IS NOT NULL OR email_confirmed_at IS NOT NULL)"


class Registration(db.Model):
    """A person's registration for a course; tenant-owned by the course's organisation."""

    __tablename__ = "registration"
    __table_args__ = (
        # One active registration per person per course, enforced by the database too.
        Index("uq_registration_active_email", "course_id", "email", unique=True,
              sqlite_where=text(_COUNTS_SQL), postgresql_where=text(_COUNTS_SQL)),
        Index("uq_registration_active_user", "course_id", "user_id", unique=True,
              sqlite_where=text(_ACTIVE_SQL + " AND user_id IS NOT NULL"),
              postgresql_where=text(_ACTIVE_SQL + " AND user_id IS NOT NULL")),
        # Per course by state, and (covering) everything the statistics count, so they
        # read the index alone; the same from the employer's side.
        Index("ix_registration_statistics", "course_id", "state", *_STATISTICS_COLUMNS),
        Index("ix_registration_employer_statistics", "employer_organisation_id",
              "course_id", "state", *_STATISTICS_COLUMNS[1:]),
        Index("ix_registration_updated_at", "updated_at"),  # the statistics' data version
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    # Null for guests, who register with name and e-mail only.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    employer_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))
    employer_name: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    # The person's own reference for the invoice (cost centre, "ressursnummer").
    own_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The fee, fixed when the seat is confirmed (later price changes leave it), and which
    # of the course's fees it was: "host", "region" or "guest" (see billing/fees.py).
    fee_ore: Mapped[int | None] = mapped_column(Integer)
    fee_kind: Mapped[str | None] = mapped_column(String(10))
    # A self-cancellation after the course's free cancellation date is still charged.
    charged_cancellation: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    state: Mapped[RegistrationState] = mapped_column(
        Enum(RegistrationState, native_enum=False, create_constraint=True, length=12,
             name="registration_state", values_callable=lambda items: [i.value for i in items]))
    # Guests must confirm their address before the registration counts.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # waiting-list order
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    user: Mapped[User | None] = relationship()
    employer: Mapped[Organisation | None] = relationship(
        foreign_keys=[employer_organisation_id])
    events: Mapped[list[RegistrationEvent]] = relationship(
        back_populates="registration", cascade="all, delete-orphan",
        order_by="RegistrationEvent.id")

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def is_active(self) -> bool:
        return self.state not in ENDED_STATES

    @property
    def employer_label(self) -> str:
        return self.employer.name if self.employer else self.employer_name


class RegistrationEvent(db.Model):
    """One state change: who, when, from → to (and why)."""

    __tablename__ = "registration_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
