"""What a unit requires its people to hold.

A requirement names a unit, a competence the organisation may use (the region's
catalogue or its own, :func:`frikomport.competence.catalogue.usable`) and, optionally, a
job title: without one it applies to everyone in the unit, with one only to those whose
``User.job_title`` is the same, ignoring case and surrounding spaces ("Sykepleier"
requires what " sykepleier " requires). Titles are compared in SQL only, by
:func:`title_key`, so the matrix, the demand, the invitations and "my competence" cannot
disagree about who a requirement applies to. The organisation's admins add and remove
requirements; both are in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, func, literal, or_, select
from sqlalchemy.orm import Session, contains_eager

from frikomport.audit.services import record
from frikomport.competence.models import Competence, Requirement
from frikomport.db import casefolded
from frikomport.errors import DomainError, NotFoundError
from frikomport.inputs import single_line
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Membership, Organisation
from frikomport.tenancy.scoping import get_scoped
from frikomport.units.models import Unit

JOB_TITLE_LENGTH = 200  # Requirement.job_title


def title_key(expression) -> ColumnElement[str]:
    """A job title (a column, or text) as requirements compare it: trimmed of spaces and
    lower-cased, Norwegian capitals too, the same on SQLite and PostgreSQL. The one
    definition of "the same job title"; Python never compares titles itself."""
    if isinstance(expression, str):
        expression = literal(expression)
    return casefolded(func.trim(expression))


def title_applies(job_title) -> ColumnElement[bool]:
    """SQL: the requirement is for everyone, or for ``job_title`` (a column, or text)."""
    return or_(Requirement.job_title == "",
               title_key(Requirement.job_title) == title_key(job_title))


def usable_competence(session: Session, organisation: Organisation,
                      competence_id: int) -> Competence:
    """One the organisation may require (see :func:`frikomport.competence.catalogue.usable`);
    another organisation's own is not found."""
    competence = session.get(Competence, competence_id)
    if competence is None or competence.organisation_id not in (None, organisation.id):
        raise NotFoundError()
    return competence


def _of_unit(unit: Unit, *columns) -> Select:
    """The unit's requirements (and ``columns``), with their competences, by competence
    and job title."""
    return (select(Requirement, *columns).join(Requirement.competence)
            .where(Requirement.unit_id == unit.id)
            .options(contains_eager(Requirement.competence))
            .order_by(casefolded(Competence.name), Competence.id,
                      casefolded(Requirement.job_title)))


def unit_requirements(session: Session, unit: Unit) -> list[Requirement]:
    """The unit's requirements with their competences, by competence and job title."""
    return list(session.scalars(_of_unit(unit)))


def keyed_requirements(session: Session, unit: Unit) -> list[tuple[Requirement, str]]:
    """:func:`unit_requirements`, each with its job title's :func:`title_key`."""
    return [(requirement, key) for requirement, key in
            session.execute(_of_unit(unit, title_key(Requirement.job_title)))]


def required_by_key(keyed: list[tuple[Requirement, str]]) -> Callable[[str], frozenset[int]]:
    """A person's :func:`title_key` (as SQL answered it) → the competence ids that
    ``keyed`` (from :func:`keyed_requirements`) require of them."""
    everyone = frozenset(r.competence_id for r, _key in keyed if not r.job_title)
    by_key: dict[str, set[int]] = defaultdict(set)
    for requirement, key in keyed:
        if requirement.job_title:
            by_key[key].add(requirement.competence_id)
    return lambda key: everyone | by_key.get(key, frozenset())


def applying_to(session: Session, membership: Membership) -> list[Requirement]:
    """The requirements of the member's unit that apply to them (none without a unit)."""
    if membership.unit_id is None:
        return []
    unit = session.get(Unit, membership.unit_id)
    return list(session.scalars(_of_unit(unit).where(
        title_applies(membership.user.job_title or ""))))


def add_requirement(session: Session, actor, unit: Unit, competence_id: int,
                    job_title: str = "") -> Requirement:
    """Require a competence in the unit (of everyone, or of one job title there)."""
    organisation = unit.organisation
    ensure(actor, Permission.MANAGE_COMPETENCE, organisation)
    competence = usable_competence(session, organisation, competence_id)
    job_title = single_line(job_title or "")
    if len(job_title) > JOB_TITLE_LENGTH:
        raise DomainError(_("The job title can be at most %(count)d characters long.",
                            count=JOB_TITLE_LENGTH))
    _ensure_new(session, unit, competence, job_title)
    requirement = Requirement(organisation_id=organisation.id, unit_id=unit.id,
                              competence_id=competence.id, job_title=job_title)
    session.add(requirement)
    session.flush()
    record(session, actor,
           "unit.requirement_added_for_title" if job_title else "unit.requirement_added",
           requirement, organisation, **_details(requirement, competence))
    return requirement


def _ensure_new(session: Session, unit: Unit, competence: Competence, job_title: str) -> None:
    """Refuse a second requirement of the competence for the same job title."""
    if session.scalar(select(Requirement.id).where(
            Requirement.unit_id == unit.id, Requirement.competence_id == competence.id,
            title_key(Requirement.job_title) == title_key(job_title)).limit(1)):
        raise DomainError(_("The unit already requires “%(competence)s” of these "
                            "people.", competence=competence.name))


def remove_requirement(session: Session, actor, unit: Unit, requirement_id: int) -> Requirement:
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    requirement = get_scoped(session, Requirement, unit.organisation, requirement_id)
    if requirement.unit_id != unit.id:
        raise NotFoundError()
    record(session, actor,
           "unit.requirement_removed_for_title" if requirement.job_title
           else "unit.requirement_removed",
           requirement, unit.organisation, **_details(requirement, requirement.competence))
    session.delete(requirement)
    return requirement


def _details(requirement: Requirement, competence: Competence) -> dict[str, str]:
    """What the audit log says about a requirement (the job title only when it has one)."""
    details = {"name": requirement.unit.name, "competence": competence.name}
    if requirement.job_title:
        details["job_title"] = requirement.job_title
    return details
