"""Shared by the tests of "My competence" and external certificates: competences, units
and leaders made directly in the database, files to upload, and posting them."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from PIL import Image
from sqlalchemy import select

from frikomport.competence.models import Competence, CompetenceRecord, RecordSource
from frikomport.extensions import db
from frikomport.tenancy.models import Membership
from frikomport.units.models import Unit, UnitLeader

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def competence(name: str, months: int | None = 12, organisation=None) -> Competence:
    made = Competence(name=name, validity_months=months,
                      organisation_id=organisation.id if organisation else None)
    db.session.add(made)
    db.session.commit()
    return made


def unit(organisation, name: str, *people, leaders=()) -> Unit:
    """A unit with these people in it (their membership there) and these leaders."""
    made = Unit(organisation_id=organisation.id, name=name)
    db.session.add(made)
    db.session.flush()
    for person in people:
        membership = db.session.scalar(select(Membership).where(
            Membership.user_id == person.id, Membership.organisation_id == organisation.id))
        membership.unit_id = made.id
    db.session.add_all(UnitLeader(organisation_id=organisation.id, unit_id=made.id,
                                  user_id=leader.id) for leader in leaders)
    db.session.commit()
    return made


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


def records_of(person) -> list[CompetenceRecord]:
    return list(db.session.scalars(select(CompetenceRecord).where(
        CompetenceRecord.user_id == person.id).order_by(CompetenceRecord.id)))


def course_record(person, competence_made, valid_from: date, valid_until: date | None,
                  title: str = "Kurs") -> CompetenceRecord:
    """An approved record as attending a course makes it (without the course)."""
    made = CompetenceRecord(user_id=person.id, competence_id=competence_made.id,
                            source=RecordSource.COURSE, valid_from=valid_from,
                            valid_until=valid_until, title=title, issuer="Kongsberg kommune")
    db.session.add(made)
    db.session.commit()
    return made
