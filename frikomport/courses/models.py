"""Courses and their per-tenant vocabulary (categories, service areas, locations)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.accounts.models import User
from frikomport.db import UTCDateTime, db, string_enum, utcnow
from frikomport.tenancy.models import Organisation


class Visibility(enum.StrEnum):
    PUBLIC = "public"      # everyone, also anonymous visitors
    REGION = "region"      # logged-in members of any organisation
    INTERNAL = "internal"  # members of the host organisation only


class CourseState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class _TenantVocabulary:
    """Columns shared by the per-tenant lists organisers choose from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))


class Category(_TenantVocabulary, db.Model):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)


class ServiceArea(_TenantVocabulary, db.Model):
    __tablename__ = "service_area"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)


class Location(_TenantVocabulary, db.Model):
    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    address: Mapped[str] = mapped_column(String(300), default="")
    room: Mapped[str] = mapped_column(String(120), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    map_url: Mapped[str] = mapped_column(String(500), default="")


class Course(db.Model):
    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("reserved_seats >= 0 AND reserved_seats <= capacity",
                        name="reserved_within_capacity"),
        CheckConstraint("fee_host_ore >= 0 AND fee_region_ore >= 0 AND fee_guest_ore >= 0",
                        name="fees_not_negative"),
        CheckConstraint("confirmed_count >= 0 AND confirmed_count <= capacity",
                        name="confirmed_within_capacity"),
        # The catalogue's read paths (frikomport/courses/queries.py, migration e7b3c5a1d9f4):
        # list and front page in start order, an organisation's page, the filter choices'
        # EXISTS probes, and the catalogue version (max updated_at). They replace the
        # single-column indexes on state, organisation_id, category_id and service_area_id
        # (their prefixes), which also kept SQLite from sorting every published course.
        Index("ix_course_state_starts_at", "state", "starts_at", "id"),
        Index("ix_course_organisation_state_starts_at", "organisation_id", "state",
              "starts_at"),
        Index("ix_course_category_state", "category_id", "state"),
        Index("ix_course_service_area_state", "service_area_id", "state"),
        Index("ix_course_updated_at", "updated_at"),
        Index("ix_course_organisation_ends_at", "organisation_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"))  # indexed in __table_args__
    title: Mapped[str] = mapped_column(String(200))
    # The language the organiser writes the course in (nb/nn/en), marked up with lang.
    content_language: Mapped[str] = mapped_column(String(5), default="nb", server_default="nb")
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="SET NULL"))  # indexed in __table_args__
    service_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_area.id", ondelete="SET NULL"))  # indexed in __table_args__
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id", ondelete="SET NULL"))
    target_group: Mapped[str] = mapped_column(String(300), default="")
    instructor: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # Fees in øre (issue 13): for the host organisation's employees, for employees of
    # the other organisations in the portal, and for guests. Each may be 0.
    fee_host_ore: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fee_region_ore: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fee_guest_ore: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Cancelling yourself after this is still charged; None: cancelling is always free.
    free_cancellation_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    charge_no_shows: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    capacity: Mapped[int] = mapped_column(Integer)
    reserved_seats: Mapped[int] = mapped_column(Integer, default=0)
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visibility: Mapped[Visibility] = mapped_column(string_enum(Visibility, "visibility"),
                                                   default=Visibility.REGION)
    state: Mapped[CourseState] = mapped_column(string_enum(CourseState, "course_state"),
                                               default=CourseState.DRAFT)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # Denormalised from the sessions so lists can sort and filter without joins.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Seat counters, kept by the registration engine while it holds the course row lock.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    waitlist_count: Mapped[int] = mapped_column(Integer, default=0)
    allow_guests: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # Off: the registration forms have no comment field and posted comments are dropped.
    ask_for_comment: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # After this, participants can no longer cancel themselves (organisers still can).
    cancellation_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    organisation: Mapped[Organisation] = relationship()
    category: Mapped[Category | None] = relationship()
    service_area: Mapped[ServiceArea | None] = relationship()
    location: Mapped[Location | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", cascade="all, delete-orphan",
        order_by="CourseSession.starts_at")
    attachments: Mapped[list[CourseAttachment]] = relationship(
        back_populates="course", cascade="all, delete-orphan",
        order_by="CourseAttachment.id")
    # What attending grants (frikomport.competence; named by string, as courses do not
    # import it). Read once per course object, so bulk attendance reads it once.
    competence_grants: Mapped[list[CourseCompetence]] = relationship(  # noqa: F821
        viewonly=True, order_by="CourseCompetence.id")

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)

    @property
    def is_free(self) -> bool:
        return not (self.fee_host_ore or self.fee_region_ore or self.fee_guest_ore)

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r}>"


class CourseSession(db.Model):
    __tablename__ = "course_session"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"),
                                           index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship(back_populates="sessions")


class CourseAttachment(db.Model):
    __tablename__ = "course_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"),
                                           index=True)
    filename: Mapped[str] = mapped_column(String(200))      # as shown to users
    stored_name: Mapped[str] = mapped_column(String(100))   # random name on disk
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="attachments")
