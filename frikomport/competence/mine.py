"""A person's own competence: what they hold and until when, the evidence for it, and
what their units require that they do not hold (the page "Min kompetanse").

A few queries whatever the person holds: their records, their holdings
(:func:`frikomport.competence.records.holdings`, the one rule for what counts), their
certificates, and the requirements of their units that apply to them
(:func:`frikomport.competence.requirements.applying_to`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from frikomport.competence import records, requirements
from frikomport.competence.models import (
    Certificate,
    Competence,
    CompetenceRecord,
    RecordStatus,
)
from frikomport.competence.records import Standing

MISSED = (Standing.MISSING, Standing.EXPIRED)


@dataclass
class Holding:
    """One competence on the page: its standing (None while nothing is approved: then
    ``status`` says whether it awaits approval or was rejected) and its evidence, newest
    first, with each course record's certificate."""

    competence: Competence
    valid_until: date | None = None
    standing: Standing | None = None
    evidence: list[CompetenceRecord] = field(default_factory=list)
    certificate_ids: dict[int, int] = field(default_factory=dict)  # record id → certificate

    @property
    def status(self) -> RecordStatus:
        if self.standing is not None:
            return RecordStatus.APPROVED
        statuses = {record.status for record in self.evidence}
        return RecordStatus.PENDING if RecordStatus.PENDING in statuses else RecordStatus.REJECTED


@dataclass(frozen=True)
class Gap:
    """A competence a unit of the person requires that they miss or that has expired."""

    competence: Competence
    unit_name: str
    standing: Standing
    valid_until: date | None


@dataclass(frozen=True)
class Overview:
    holdings: list[Holding]
    gaps: list[Gap]


def overview(session: Session, person, on: date | None = None) -> Overview:
    on = on or records.today()
    held = {competence_id: until for (_user, competence_id), until
            in records.holdings(session, [person.id]).items()}
    holdings = _holdings(session, person, held, on)
    return Overview(holdings, _gaps(session, person, held, on))


def _holdings(session: Session, person, held: dict[int, date | None],
              on: date) -> list[Holding]:
    rows = session.scalars(
        select(CompetenceRecord).where(CompetenceRecord.user_id == person.id)
        .options(joinedload(CompetenceRecord.competence))
        .order_by(CompetenceRecord.valid_from.desc(), CompetenceRecord.id.desc()))
    certificates = _certificates(session, person)
    by_competence: dict[int, Holding] = {}
    for record in rows:
        holding = by_competence.setdefault(record.competence_id, Holding(record.competence))
        holding.evidence.append(record)
        if record.registration_id in certificates:
            holding.certificate_ids[record.id] = certificates[record.registration_id]
    for competence_id, holding in by_competence.items():
        if competence_id in held:
            holding.valid_until = held[competence_id]
            holding.standing = records.standing(held[competence_id], on)
    return sorted(by_competence.values(), key=lambda h: (h.competence.name.casefold(),
                                                         h.competence.id))


def _certificates(session: Session, person) -> dict[int, int]:
    """registration id → the person's certificate for it (revoked ones do not count)."""
    return dict(session.execute(
        select(Certificate.registration_id, Certificate.id)
        .where(Certificate.user_id == person.id, Certificate.revoked_at.is_(None),
               Certificate.registration_id.is_not(None))).all())


def _gaps(session: Session, person, held: dict[int, date | None], on: date) -> list[Gap]:
    gaps, seen = [], set()
    applying = (requirement for membership in person.memberships
                for requirement in requirements.applying_to(session, membership))
    for requirement in applying:
        competence_id = requirement.competence_id
        standing = records.standing(held.get(competence_id), on, competence_id in held)
        if standing in MISSED and competence_id not in seen:
            seen.add(competence_id)
            gaps.append(Gap(requirement.competence, requirement.unit.name, standing,
                            held.get(competence_id)))
    return gaps
