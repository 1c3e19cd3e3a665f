"""A unit's competence matrix: its people × the competences the unit requires.

Each cell says whether the person must hold the competence (a requirement may name a job
title) and, if so, how they stand on the day (Europe/Oslo): valid, expiring within
:data:`~frikomport.competence.records.EXPIRING_DAYS`, expired or missing, with the last
valid day. A summary counts the states per competence. The whole matrix is three
statements whatever the unit's size: the requirements, the people, and what they hold
(one grouped query, :func:`~frikomport.competence.records.holdings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.competence.models import Competence
from frikomport.competence.records import Standing, holdings, standing, today
from frikomport.competence.requirements import keyed_requirements, required_by_key, title_key
from frikomport.db import casefolded
from frikomport.permissions import ensure_can_view_unit
from frikomport.tenancy.models import Membership
from frikomport.units.models import Unit

STANDING_LABELS = {
    Standing.VALID: _l("Valid"),
    Standing.EXPIRING: _l("Expires soon"),
    Standing.EXPIRED: _l("Expired"),
    Standing.MISSING: _l("Missing"),
}
NOT_REQUIRED = _l("Not required")


@dataclass(frozen=True)
class Cell:
    """One person and competence; ``standing`` is None where it is not required of them."""

    standing: Standing | None = None
    valid_until: date | None = None

    @property
    def required(self) -> bool:
        return self.standing is not None



def state_words() -> dict[Standing | None, str]:
    """Each state in the reader's language (None: not required), translated once for a
    matrix that may have thousands of cells."""
    return {None: str(NOT_REQUIRED)} | {state: str(label)
                                         for state, label in STANDING_LABELS.items()}


@dataclass(frozen=True)
class Row:
    user_id: int
    name: str
    job_title: str
    cells: list[Cell]


@dataclass
class Tally:
    """How the people who must hold a competence stand."""

    competence: Competence
    counts: dict[Standing, int] = field(default_factory=lambda: dict.fromkeys(Standing, 0))

    @property
    def required(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Matrix:
    unit: Unit
    on: date
    competences: list[Competence]
    rows: list[Row]
    summary: list[Tally]

    def last_days(self) -> set[date]:
        """The distinct last valid days in the matrix (to format each once)."""
        return {cell.valid_until for row in self.rows for cell in row.cells
                if cell.valid_until is not None}


def unit_matrix(session: Session, actor, unit: Unit, now: datetime | None = None) -> Matrix:
    """The unit's matrix on the Oslo date of ``now`` (default: now), for those who may
    see the unit (its leaders and the organisation's admins). Disabled accounts are left
    out, as the demand for competence leaves them out."""
    ensure_can_view_unit(actor, unit)
    requirements = keyed_requirements(session, unit)
    competences = list({r.competence_id: r.competence for r, _key in requirements}.values())
    people = session.execute(
        select(User.id, User.name, User.job_title, title_key(User.job_title).label("title_key"))
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit.id,
               Membership.organisation_id == unit.organisation_id, User.is_enabled)
        .order_by(casefolded(User.name), User.id)).all()
    on = today(now)
    held = holdings(session, [person.id for person in people],
                    [competence.id for competence in competences], on) if competences else {}
    summary = [Tally(competence) for competence in competences]
    required_of = required_by_key(requirements)
    rows = []
    for person in people:
        required = required_of(person.title_key)
        cells = [_cell(person.id, competence.id, required, held, on)
                 for competence in competences]
        for tally, cell in zip(summary, cells, strict=True):
            if cell.required:
                tally.counts[cell.standing] += 1
        rows.append(Row(person.id, person.name, person.job_title, cells))
    return Matrix(unit, on, competences, rows, summary)


def _cell(user_id: int, competence_id: int, required: frozenset[int], held: dict,
          on: date) -> Cell:
    if competence_id not in required:
        return Cell()
    key = (user_id, competence_id)
    valid_until = held.get(key)
    return Cell(standing(valid_until, on, held=key in held), valid_until)
