"""What a unit requires its people to hold.

A requirement names a unit, a competence the organisation may use (the region's
catalogue or its own) and, optionally, a job title: without one it applies to everyone
in the unit, with one only to those whose ``User.job_title`` is the same, ignoring case
and surrounding spaces ("Sykepleier" requires what " sykepleier " requires). The
organisation's admins add and remove requirements; both are in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import or_, select
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


def normal_title(job_title: str | None) -> str:
    """A job title as requirements compare it."""
    return single_line(job_title or "").casefold()


def applies(requirement: Requirement, job_title: str | None) -> bool:
    """Does ``requirement`` apply to a person with this job title?"""
    return not requirement.job_title or normal_title(requirement.job_title) == normal_title(
        job_title)


def required_by_title(requirements: list[Requirement]) -> Callable[[str | None], frozenset[int]]:
    """job title → the competence ids ``requirements`` require of a person with it; each
    distinct title is worked out once (a unit's people share a few titles)."""
    known: dict[str, frozenset[int]] = {}

    def required(job_title: str | None) -> frozenset[int]:
        title = normal_title(job_title)
        if title not in known:
            known[title] = frozenset(r.competence_id for r in requirements
                                     if not r.job_title or normal_title(r.job_title) == title)
        return known[title]

    return required


def usable_competences(session: Session, organisation: Organisation) -> list[Competence]:
    """The competences the organisation may require: the region's and its own, by name."""
    return list(session.scalars(
        select(Competence).where(or_(Competence.organisation_id.is_(None),
                                     Competence.organisation_id == organisation.id))
        .order_by(casefolded(Competence.name), Competence.id)))


def usable_competence(session: Session, organisation: Organisation,
                      competence_id: int) -> Competence:
    """One of :func:`usable_competences`; another organisation's own is not found."""
    competence = session.get(Competence, competence_id)
    if competence is None or competence.organisation_id not in (None, organisation.id):
        raise NotFoundError()
    return competence


def unit_requirements(session: Session, unit: Unit) -> list[Requirement]:
    """The unit's requirements with their competences, by competence and job title."""
    return list(session.scalars(
        select(Requirement).join(Requirement.competence).where(Requirement.unit_id == unit.id)
        .options(contains_eager(Requirement.competence))
        .order_by(casefolded(Competence.name), Competence.id, casefolded(Requirement.job_title))))


def applying_to(session: Session, membership: Membership) -> list[Requirement]:
    """The requirements of the member's unit that apply to them (none without a unit)."""
    if membership.unit_id is None:
        return []
    unit = session.get(Unit, membership.unit_id)
    return [requirement for requirement in unit_requirements(session, unit)
            if applies(requirement, membership.user.job_title)]


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
    for existing in unit_requirements(session, unit):
        if existing.competence_id == competence.id and normal_title(
                existing.job_title) == normal_title(job_title):
            raise DomainError(_("The unit already requires “%(competence)s” of these "
                                "people.", competence=competence.name))
    requirement = Requirement(organisation_id=organisation.id, unit_id=unit.id,
                              competence_id=competence.id, job_title=job_title)
    session.add(requirement)
    session.flush()
    record(session, actor,
           "unit.requirement_added_for_title" if job_title else "unit.requirement_added",
           requirement, organisation, **_details(requirement, competence))
    return requirement


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
