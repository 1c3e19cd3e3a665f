"""Builders for the competence tests, made directly in the database: competences, units
with requirements, people and leaders, holdings, courses that grant a competence, the mail
they send, and certificate files to upload."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from PIL import Image
from sqlalchemy import select

from frikomport.competence.models import (
    Competence,
    CompetenceRecord,
    CourseCompetence,
    RecordSource,
    RecordStatus,
    Requirement,
)
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage
from frikomport.notifications.rendering import render_or_drop
from frikomport.tenancy.models import Membership
from frikomport.units.models import Unit, UnitLeader
from tests.factories import CourseFactory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def competence(name: str, *, months: int | None = 12, organisation=None) -> Competence:
    """The region's competence, or ``organisation``'s own; ``months=None``: no expiry."""
    made = Competence(name=name, validity_months=months,
                      organisation_id=organisation.id if organisation else None)
    db.session.add(made)
    db.session.commit()
    return made


def make_unit(organisation, name: str, *, requires=(), people=(), leaders=()) -> Unit:
    """A unit requiring ``requires`` (competences, or (competence, job title) pairs), with
    ``people`` placed in it and ``leaders`` leading it."""
    made = Unit(organisation_id=organisation.id, name=name)
    db.session.add(made)
    db.session.commit()
    for item in requires:
        required, job_title = item if isinstance(item, tuple) else (item, "")
        require(made, required, job_title)
    for person in people:
        place(person, made)
    for leader in leaders:
        lead(leader, made)
    return made


def membership_of(person, organisation) -> Membership:
    return db.session.scalars(select(Membership).where(
        Membership.user_id == person.id, Membership.organisation_id == organisation.id)).one()


def place(person, unit: Unit) -> None:
    """Put the person in the unit (their membership of its organisation)."""
    membership_of(person, unit.organisation).unit_id = unit.id
    db.session.commit()


def lead(person, unit: Unit) -> None:
    db.session.add(UnitLeader(organisation_id=unit.organisation_id, unit_id=unit.id,
                              user_id=person.id))
    db.session.commit()


def require(unit: Unit, required: Competence, job_title: str = "") -> Requirement:
    """``required`` of everyone in the unit, or of those with ``job_title`` only."""
    requirement = Requirement(organisation_id=unit.organisation_id, unit_id=unit.id,
                              competence_id=required.id, job_title=job_title)
    db.session.add(requirement)
    db.session.commit()
    return requirement


def hold(person, held: Competence, valid_until: date | None,
         status: RecordStatus = RecordStatus.APPROVED, *, valid_from: date = date(2020, 1, 1),
         title: str = "Kurs", issuer: str = "Kongsberg kommune") -> CompetenceRecord:
    """A record of ``held``: an approved one as a course makes it (without the course),
    any other as an upload."""
    source = RecordSource.COURSE if status == RecordStatus.APPROVED else RecordSource.EXTERNAL
    record = CompetenceRecord(user_id=person.id, competence_id=held.id, source=source,
                              status=status, valid_from=valid_from, valid_until=valid_until,
                              title=title, issuer=issuer)
    db.session.add(record)
    db.session.commit()
    return record


def records_of(person) -> list[CompetenceRecord]:
    return list(db.session.scalars(select(CompetenceRecord).where(
        CompetenceRecord.user_id == person.id).order_by(CompetenceRecord.id)))


def granting(organisation, *competences, **fields):
    """A course (published, in ten days, unless ``fields`` say otherwise) granting these."""
    course = CourseFactory(organisation=organisation, **fields)
    db.session.add_all(CourseCompetence(organisation_id=organisation.id, course_id=course.id,
                                        competence_id=c.id) for c in competences)
    db.session.commit()
    return course


def mail_to(address: str) -> list[OutboxMessage]:
    """The messages queued to ``address``, written as the sender would (dropped ones go)."""
    db.session.expire_all()
    messages = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == address).order_by(OutboxMessage.id)))
    written = [message for message in messages if render_or_drop(db.session, message)]
    db.session.commit()
    return written


def png(size=(40, 30)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, competence_id, data: bytes = PDF, filename: str = "bevis.pdf",
           **fields):
    """Post the upload form; ``fields`` replace the defaults of the other inputs."""
    form = {"competence": str(competence_id), "title": "Førstehjelp grunnkurs",
            "issuer": "Røde Kors", "achieved_on": "2026-03-01"} | fields
    return client.post("/me/competence/external", content_type="multipart/form-data",
                       data=form | {"file": (BytesIO(data), filename)})


def decide(client, organisation, record, decision="approve", note=""):
    return client.post(f"/o/{organisation.slug}/admin/competence/approvals/{record.id}",
                       data={"decision": decision, "note": note})


def fetch_file(client, record):
    return client.get(f"/me/competence/external/{record.id}/file")
