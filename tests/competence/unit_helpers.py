"""Builders for the unit and matrix tests: competences, units, placements and holdings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from frikomport.competence.models import (
    Competence,
    CompetenceRecord,
    RecordSource,
    RecordStatus,
    Requirement,
)
from frikomport.extensions import db
from frikomport.tenancy.models import Membership
from frikomport.units.models import Unit, UnitLeader


def competence(name: str, organisation=None, months: int | None = 12) -> Competence:
    item = Competence(name=name, validity_months=months,
                      organisation_id=organisation.id if organisation else None)
    db.session.add(item)
    db.session.commit()
    return item


def make_unit(organisation, name: str) -> Unit:
    item = Unit(organisation_id=organisation.id, name=name)
    db.session.add(item)
    db.session.commit()
    return item


def membership_of(person, organisation) -> Membership:
    return db.session.scalar(select(Membership).where(
        Membership.user_id == person.id, Membership.organisation_id == organisation.id))


def place(person, unit: Unit) -> None:
    membership_of(person, unit.organisation).unit_id = unit.id
    db.session.commit()


def lead(person, unit: Unit) -> None:
    db.session.add(UnitLeader(organisation_id=unit.organisation_id, unit_id=unit.id,
                              user_id=person.id))
    db.session.commit()


def require(unit: Unit, required: Competence, job_title: str = "") -> Requirement:
    requirement = Requirement(organisation_id=unit.organisation_id, unit_id=unit.id,
                              competence_id=required.id, job_title=job_title)
    db.session.add(requirement)
    db.session.commit()
    return requirement


def hold(person, held: Competence, valid_until: date | None,
         status: RecordStatus = RecordStatus.APPROVED) -> CompetenceRecord:
    record = CompetenceRecord(user_id=person.id, competence_id=held.id,
                              source=RecordSource.EXTERNAL, status=status,
                              valid_from=date(2020, 1, 1), valid_until=valid_until,
                              title="Kurs", issuer="Røde Kors")
    db.session.add(record)
    db.session.commit()
    return record
