"""Competences, what grants them, what people hold, what units require, certificates.

Tenancy: the region-wide catalogue has ``organisation_id`` NULL (curated by the site
admin); an organisation's own competences carry its id and are seen by it alone. A
person's records belong to the person (like their account): their organisation's admins
and their unit's leaders see them through the person's membership, never directly.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.accounts.models import User
from frikomport.courses.models import Course
from frikomport.db import UTCDateTime, db, string_enum, utcnow
from frikomport.tenancy.models import Organisation
from frikomport.units.models import Unit


class Competence(db.Model):
    """Something a person can document, valid for ``validity_months`` (None: for good)."""

    __tablename__ = "competence"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name"),
        # The region's names are unique too (NULLs are distinct in the constraint above).
        Index("uq_competence_region_name", "name", unique=True,
              sqlite_where=text("organisation_id IS NULL"),
              postgresql_where=text("organisation_id IS NULL")),
        CheckConstraint("validity_months IS NULL OR (validity_months >= 1 "
                        "AND validity_months <= 600)", name="validity_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the region-wide catalogue; else the organisation's own competence.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    validity_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def is_regional(self) -> bool:
        return self.organisation_id is None

    def __repr__(self) -> str:
        return f"<Competence {self.id} {self.name!r}>"


class CourseCompetence(db.Model):
    """A competence a course grants to those who attend it. Tenant-owned by the host."""

    __tablename__ = "course_competence"
    __table_args__ = (UniqueConstraint("course_id", "competence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    competence_id: Mapped[int] = mapped_column(
        ForeignKey("competence.id", ondelete="CASCADE"), index=True)

    course: Mapped[Course] = relationship()
    competence: Mapped[Competence] = relationship(lazy="joined")


class RecordSource(enum.StrEnum):
    COURSE = "course"      # attended a course that grants it
    EXTERNAL = "external"  # a certificate from elsewhere, uploaded by the person


class RecordStatus(enum.StrEnum):
    PENDING = "pending"    # an external certificate awaiting approval
    APPROVED = "approved"  # counts (course records are approved when made)
    REJECTED = "rejected"


class CompetenceRecord(db.Model):
    """One piece of evidence that a person holds a competence, from ``valid_from`` to
    ``valid_until`` (None: no expiry), as dates in Europe/Oslo.

    Renewal adds a record; what a person holds on a day is the latest ``valid_until`` of
    their approved records valid from that day or earlier
    (:mod:`frikomport.competence.records`). A course record belongs to
    its registration: if attendance is taken back, the record goes with it.
    """

    __tablename__ = "competence_record"
    __table_args__ = (
        Index("ix_competence_record_holding", "user_id", "competence_id", "status",
              "valid_until"),
        Index("uq_competence_record_registration", "registration_id", "competence_id",
              unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    competence_id: Mapped[int] = mapped_column(
        ForeignKey("competence.id", ondelete="CASCADE"), index=True)
    source: Mapped[RecordSource] = mapped_column(string_enum(RecordSource, "record_source"))
    status: Mapped[RecordStatus] = mapped_column(string_enum(RecordStatus, "record_status"),
                                                 default=RecordStatus.APPROVED)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # Course records: the registration (None once it is deleted by the retention rules;
    # the record stays, with the course title copied in).
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200), default="")  # course / certificate name
    issuer: Mapped[str] = mapped_column(String(200), default="")  # host / who issued it
    # External certificates: the uploaded file, who decides (the person's organisation),
    # and the decision.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    stored_name: Mapped[str] = mapped_column(String(100), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    competence: Mapped[Competence] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Requirement(db.Model):
    """A competence everyone in a unit (or everyone with a job title there) must hold."""

    __tablename__ = "competence_requirement"
    __table_args__ = (UniqueConstraint("unit_id", "competence_id", "job_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    competence_id: Mapped[int] = mapped_column(
        ForeignKey("competence.id", ondelete="CASCADE"), index=True)
    job_title: Mapped[str] = mapped_column(String(200), default="")  # "": everyone
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    competence: Mapped[Competence] = relationship()


class Certificate(db.Model):
    """A course certificate (kursbevis) for an attended registration.

    What it certifies is copied in when it is issued, so the document stays the same
    after the course is edited. ``code`` is the public verification code: the page
    ``/verify/<code>`` shows the name, course and date, nothing else. Taking attendance
    back revokes it (the code then says so).
    """

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(  # the host
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(200))
    host_name: Mapped[str] = mapped_column(String(200))
    instructor: Mapped[str] = mapped_column(String(200), default="")
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    teaching_minutes: Mapped[int] = mapped_column(Integer, default=0)  # the sessions' sum
    competences: Mapped[str] = mapped_column(Text, default="")  # names, one per line
    language: Mapped[str] = mapped_column(String(5), default="nb")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderSent(db.Model):
    """A reminder that a competence expires: one per person, competence, expiry date and
    threshold (days before), so each is sent once even if the job runs twice."""

    __tablename__ = "competence_reminder"
    __table_args__ = (UniqueConstraint("user_id", "competence_id", "valid_until", "days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    competence_id: Mapped[int] = mapped_column(
        ForeignKey("competence.id", ondelete="CASCADE"), index=True)
    valid_until: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseInvitation(db.Model):
    """An invitation sent to someone who needs a competence a course grants: one per
    course and person, so the organiser cannot send it twice."""

    __tablename__ = "course_invitation"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(  # the host
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
