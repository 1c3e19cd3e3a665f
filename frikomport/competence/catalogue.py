"""The competence catalogue, and which competences a course grants.

Two scopes: the region's catalogue (``organisation_id`` NULL, curated by the site admin)
and each organisation's own competences (its admins). An organisation uses the region's
and its own, never another organisation's. Names are unique within a scope, ignoring
case; an organisation's own name may not repeat a region name either, so a course never
offers two competences people cannot tell apart. (The region may take a name an
organisation already uses: the region's catalogue is not held back by a tenant's list.)

A competence that people hold, or that a unit requires, cannot be deleted: its records
are people's evidence. Courses that grant it simply stop granting it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.competence.models import Competence, CompetenceRecord, CourseCompetence, Requirement
from frikomport.courses.models import Course
from frikomport.db import casefolded, lock_row
from frikomport.errors import DomainError, NotFoundError
from frikomport.inputs import MAX_DB_INTEGER
from frikomport.permissions import Permission, ensure, ensure_region_catalogue
from frikomport.tenancy.models import Organisation

MAX_MONTHS = 600  # fifty years; the database refuses more (validity_in_range)
MAX_NAME = 120
MAX_DESCRIPTION = 2000


@dataclass
class CompetenceData:
    """What a curator edits; ``validity_months`` None means the competence never expires."""

    name: str
    description: str = ""
    validity_months: int | None = None


# Reading -----------------------------------------------------------------------------------

def _by_name(statement):
    return statement.order_by(casefolded(Competence.name), Competence.id)


def regional(session: Session) -> list[Competence]:
    """The region's catalogue (anyone may read the names: courses show them)."""
    return list(session.scalars(_by_name(
        select(Competence).where(Competence.organisation_id.is_(None)))))


def own(session: Session, organisation: Organisation) -> list[Competence]:
    return list(session.scalars(_by_name(
        select(Competence).where(Competence.organisation_id == organisation.id))))


def _usable_clause(organisation: Organisation):
    return or_(Competence.organisation_id.is_(None),
               Competence.organisation_id == organisation.id)


def usable(session: Session, organisation: Organisation) -> list[Competence]:
    """What the organisation's courses may grant: the region's and its own, by name."""
    return list(session.scalars(_by_name(
        select(Competence).where(_usable_clause(organisation)))))


def get_regional(session: Session, actor, competence_id: int) -> Competence:
    ensure_region_catalogue(actor)
    competence = session.get(Competence, competence_id)
    if competence is None or not competence.is_regional:
        raise NotFoundError()
    return competence


def get_own(session: Session, actor, organisation: Organisation,
            competence_id: int) -> Competence:
    """One of the organisation's own (a region competence or another's is not found)."""
    ensure(actor, Permission.MANAGE_COMPETENCE, organisation)
    competence = session.get(Competence, competence_id)
    if competence is None or competence.organisation_id != organisation.id:
        raise NotFoundError()
    return competence


# Curating ----------------------------------------------------------------------------------

def _ensure_may_curate(actor, organisation: Organisation | None) -> None:
    if organisation is None:
        ensure_region_catalogue(actor)
    else:
        ensure(actor, Permission.MANAGE_COMPETENCE, organisation)


def _cleaned(data: CompetenceData) -> CompetenceData:
    """The data with its text trimmed, or DomainError for the first rule it breaks."""
    name, description = data.name.strip(), data.description.strip()
    if not name:
        raise DomainError(_("The competence needs a name."))
    if len(name) > MAX_NAME:
        raise DomainError(_("The name can be at most %(n)d characters.", n=MAX_NAME))
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(_("The description can be at most %(n)d characters.",
                            n=MAX_DESCRIPTION))
    months = data.validity_months
    if months is not None and (type(months) is not int or not 1 <= months <= MAX_MONTHS):
        raise DomainError(_("The validity must be a whole number of months from 1 to %(n)d, "
                            "or no expiry.", n=MAX_MONTHS))
    return CompetenceData(name=name, description=description, validity_months=months)


def _ensure_name_free(session: Session, organisation: Organisation | None, name: str,
                      exclude_id: int | None = None) -> None:
    """Refuse a name already used in the scope, or (for an organisation's own) by the
    region; case does not count."""
    scope = (Competence.organisation_id.is_(None) if organisation is None
             else _usable_clause(organisation))
    statement = select(Competence).where(scope, casefolded(Competence.name) == name.lower())
    if exclude_id is not None:
        statement = statement.where(Competence.id != exclude_id)
    clash = session.scalars(statement.limit(1)).first()
    if clash is None:
        return
    if clash.is_regional:
        raise DomainError(_("“%(name)s” is already in the region's catalogue. Use that one, "
                            "or choose another name.", name=clash.name))
    raise DomainError(_("Your organisation already has a competence called “%(name)s”.",
                        name=clash.name))


def create(session: Session, actor, organisation: Organisation | None,
           data: CompetenceData) -> Competence:
    """Add a competence to the region's catalogue (``organisation`` None) or to an
    organisation's own."""
    _ensure_may_curate(actor, organisation)
    data = _cleaned(data)
    _ensure_name_free(session, organisation, data.name)
    competence = Competence(organisation_id=organisation.id if organisation else None,
                            name=data.name, description=data.description,
                            validity_months=data.validity_months)
    session.add(competence)
    session.flush()
    record(session, actor, "competence.created", competence, organisation, name=data.name,
           validity_months=data.validity_months)
    return competence


def update(session: Session, actor, competence: Competence, data: CompetenceData) -> None:
    """Change a competence. A new validity applies to records made from now on: what
    people already hold keeps its valid-until date."""
    organisation = competence.organisation
    _ensure_may_curate(actor, organisation)
    data = _cleaned(data)
    _ensure_name_free(session, organisation, data.name, exclude_id=competence.id)
    changed = [f.name for f in fields(CompetenceData)
               if getattr(competence, f.name) != getattr(data, f.name)]
    if not changed:
        return
    # Old → new for the name and validity; the description only as a changed field.
    changes = {name: [getattr(competence, name), getattr(data, name)]
               for name in changed if name != "description"}
    for name in changed:
        setattr(competence, name, getattr(data, name))
    record(session, actor, "competence.updated", competence, organisation,
           name=competence.name, changes=changes, fields=changed)


def delete_competence(session: Session, actor, competence: Competence) -> int:
    """Delete a competence nobody holds and no unit requires; return how many courses
    granted it (they stop granting it).

    The row is locked first, so attendance marked meanwhile either waits for us (and then
    finds the competence gone) or is counted here: a record is never deleted with it.
    """
    organisation = competence.organisation
    _ensure_may_curate(actor, organisation)
    lock_row(session, Competence, competence.id)
    people = session.scalar(select(func.count(func.distinct(CompetenceRecord.user_id)))
                            .where(CompetenceRecord.competence_id == competence.id))
    if people:
        raise DomainError(ngettext(
            "“%(name)s” cannot be deleted: %(num)d person has it recorded.",
            "“%(name)s” cannot be deleted: %(num)d people have it recorded.",
            people, name=competence.name))
    requirements = session.scalar(select(func.count(Requirement.id))
                                  .where(Requirement.competence_id == competence.id))
    if requirements:
        raise DomainError(ngettext(
            "“%(name)s” cannot be deleted: %(num)d unit requires it. Remove the requirement "
            "first.",
            "“%(name)s” cannot be deleted: %(num)d units require it. Remove the "
            "requirements first.", requirements, name=competence.name))
    courses = session.execute(delete(CourseCompetence).where(
        CourseCompetence.competence_id == competence.id)).rowcount
    record(session, actor, "competence.deleted", competence, organisation,
           name=competence.name)
    session.delete(competence)
    return courses


# What a course grants ------------------------------------------------------------------------

def granted_ids(course: Course) -> list[int]:
    return [grant.competence_id for grant in course.competence_grants]


def set_granted(session: Session, actor, course: Course, competence_ids) -> None:
    """Make the course grant exactly these competences (the region's or the host's own).

    Changes apply to attendance marked from now on; records already made stay.
    """
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    wanted = set(competence_ids)
    storable = [i for i in wanted if 0 < i <= MAX_DB_INTEGER]  # others match no row
    allowed = {competence.id: competence for competence in session.scalars(
        select(Competence).where(Competence.id.in_(storable),
                                 _usable_clause(course.organisation)))}
    if wanted - allowed.keys():
        raise DomainError(_("A course can only give competences from the region's "
                            "catalogue or the organisation's own."))
    current = {grant.competence_id: grant for grant in session.scalars(
        select(CourseCompetence).where(CourseCompetence.course_id == course.id))}
    if wanted == current.keys():
        return
    for competence_id in current.keys() - wanted:
        session.delete(current[competence_id])
    session.add_all(CourseCompetence(organisation_id=course.organisation_id,
                                     course_id=course.id, competence_id=competence_id)
                    for competence_id in wanted - current.keys())
    session.flush()
    session.expire(course, ["competence_grants"])
    record(session, actor, "course.competences_changed", course, course.organisation,
           title=course.title,
           competences=sorted(competence.name for competence in allowed.values()))


def copy_grants(session: Session, actor, source: Course, target: Course) -> None:
    """A copied course grants what its original grants."""
    if ids := granted_ids(source):
        set_granted(session, actor, target, ids)
