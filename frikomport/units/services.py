"""Units of an organisation: creating, renaming and deleting them, placing members in
them and naming their leaders.

The organisation's admins manage units (``Permission.MANAGE_COMPETENCE``); every change
is written to the audit log. A unit's name is unique in its organisation whatever the
case ("Omsorg" and "omsorg" would be the same unit to a reader). Deleting a unit leaves
its members unplaced (``membership.unit_id`` is set to NULL by the database) and removes
its leaders and requirements with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from frikomport.accounts.models import User
from frikomport.audit.services import record
from frikomport.competence.models import Requirement
from frikomport.db import casefolded
from frikomport.errors import DomainError, NotFoundError
from frikomport.inputs import single_line
from frikomport.permissions import Permission, can, ensure, led_unit_ids
from frikomport.tenancy.models import Membership, Organisation
from frikomport.tenancy.scoping import get_scoped, scoped
from frikomport.units.models import Unit, UnitLeader

NAME_LENGTH = 120  # Unit.name
CHOICES_SHOWN = 20  # members offered for placement at a time (an organisation has thousands)


@dataclass(frozen=True)
class UnitSummary:
    """A unit in a list, with how many members and requirements it has."""

    unit: Unit
    members: int
    requirements: int


@dataclass(frozen=True)
class Candidate:
    """A member who could be placed in (or made leader of) a unit, and where they are now."""

    membership: Membership
    unit_name: str | None


# Reading -------------------------------------------------------------------------------

def list_units(session: Session, actor, organisation: Organisation) -> list[UnitSummary]:
    """Every unit of the organisation, for its admins."""
    ensure(actor, Permission.MANAGE_COMPETENCE, organisation)
    return _summaries(session, scoped(Unit, organisation))


def viewable_units(session: Session, actor, organisation: Organisation) -> list[UnitSummary]:
    """The units whose matrix ``actor`` may open: every one for the organisation's admins,
    the ones they lead for leaders (whatever their role); anyone else is refused as
    :func:`~frikomport.permissions.ensure` refuses (a member 403, an outsider 404)."""
    query = scoped(Unit, organisation)
    led = led_unit_ids(actor, organisation.id)
    if not led:
        ensure(actor, Permission.MANAGE_COMPETENCE, organisation)
    elif not can(actor, Permission.MANAGE_COMPETENCE, organisation):
        query = query.where(Unit.id.in_(led))
    return _summaries(session, query)


def _summaries(session: Session, query) -> list[UnitSummary]:
    """The units of ``query`` by name, each with its counts: one statement."""
    members = (select(func.count(Membership.id)).where(Membership.unit_id == Unit.id)
               .correlate(Unit).scalar_subquery())
    requirements = (select(func.count(Requirement.id)).where(Requirement.unit_id == Unit.id)
                    .correlate(Unit).scalar_subquery())
    statement = (query.add_columns(members, requirements)
                 .order_by(casefolded(Unit.name), Unit.id))
    return [UnitSummary(unit, member_count, requirement_count)
            for unit, member_count, requirement_count in session.execute(statement)]


def get_unit(session: Session, actor, organisation: Organisation, unit_id: int) -> Unit:
    """A unit for its admins (another organisation's unit is not found)."""
    ensure(actor, Permission.MANAGE_COMPETENCE, organisation)
    return get_scoped(session, Unit, organisation, unit_id)


def find_unit(session: Session, organisation: Organisation, unit_id: int) -> Unit:
    """A unit of the organisation, before asking whether the reader may see it."""
    return get_scoped(session, Unit, organisation, unit_id)


def members_of(session: Session, unit: Unit) -> list[Membership]:
    """The unit's members with their accounts, by name (for callers that checked access)."""
    return list(session.scalars(
        scoped(Membership, unit.organisation).join(Membership.user)
        .where(Membership.unit_id == unit.id).options(contains_eager(Membership.user))
        .order_by(casefolded(User.name), Membership.id)))


def leaders_of(session: Session, unit: Unit) -> list[UnitLeader]:
    return list(session.scalars(
        select(UnitLeader).join(UnitLeader.user).where(UnitLeader.unit_id == unit.id)
        .options(contains_eager(UnitLeader.user)).order_by(casefolded(User.name))))


def candidates(session: Session, actor, unit: Unit, text: str = "") -> tuple[
        list[Candidate], bool]:
    """Members of the unit's organisation who are not in it: those whose name or e-mail
    address holds ``text``, or without a text those in no unit yet. At most
    :data:`CHOICES_SHOWN`; the flag says whether there are more (search to narrow)."""
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    query = (scoped(Membership, unit.organisation).join(Membership.user)
             .outerjoin(Unit, Unit.id == Membership.unit_id)
             .where((Membership.unit_id != unit.id) | Membership.unit_id.is_(None)))
    if needle := text.strip().lower():
        query = query.where(casefolded(User.name).contains(needle, autoescape=True)
                            | casefolded(User.email).contains(needle, autoescape=True))
    else:
        query = query.where(Membership.unit_id.is_(None))
    query = (query.add_columns(Unit.name).options(contains_eager(Membership.user))
             .order_by(casefolded(User.name), Membership.id).limit(CHOICES_SHOWN + 1))
    found = [Candidate(membership, unit_name)
             for membership, unit_name in session.execute(query)]
    return found[:CHOICES_SHOWN], len(found) > CHOICES_SHOWN


# Units ---------------------------------------------------------------------------------

def _clean_name(session: Session, organisation: Organisation, name: str,
                unit_id: int | None = None) -> str:
    name = single_line(name or "")
    if not name:
        raise DomainError(_("Give the unit a name."))
    if len(name) > NAME_LENGTH:
        raise DomainError(_("The name can be at most %(count)d characters long.",
                            count=NAME_LENGTH))
    same = scoped(Unit, organisation).where(casefolded(Unit.name) == name.lower())
    if unit_id is not None:
        same = same.where(Unit.id != unit_id)
    if session.scalar(same) is not None:
        raise DomainError(_("There is already a unit called “%(name)s”.", name=name))
    return name


def create_unit(session: Session, actor, organisation: Organisation, name: str) -> Unit:
    ensure(actor, Permission.MANAGE_COMPETENCE, organisation)
    unit = Unit(organisation_id=organisation.id,
                name=_clean_name(session, organisation, name))
    session.add(unit)
    session.flush()
    record(session, actor, "unit.created", unit, organisation, name=unit.name)
    return unit


def rename_unit(session: Session, actor, unit: Unit, name: str) -> None:
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    new = _clean_name(session, unit.organisation, name, unit_id=unit.id)
    if new == unit.name:
        return
    old, unit.name = unit.name, new
    record(session, actor, "unit.renamed", unit, unit.organisation, name=new, old=old, new=new)


def delete_unit(session: Session, actor, unit: Unit) -> None:
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    record(session, actor, "unit.deleted", unit, unit.organisation, name=unit.name)
    session.delete(unit)


# Members and leaders ------------------------------------------------------------------

def place_member(session: Session, actor, unit: Unit, membership_id: int) -> Membership:
    """Put a member of the unit's organisation in the unit (out of any other one)."""
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    membership = get_scoped(session, Membership, unit.organisation, membership_id)
    if membership.unit_id != unit.id:
        membership.unit_id = unit.id
        record(session, actor, "unit.member_placed", unit, unit.organisation,
               name=unit.name, user=membership.user.email)
    return membership


def take_out_member(session: Session, actor, unit: Unit, membership_id: int) -> Membership:
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    membership = get_scoped(session, Membership, unit.organisation, membership_id)
    if membership.unit_id != unit.id:
        raise DomainError(_("%(name)s is not in this unit.", name=membership.user.name))
    membership.unit_id = None
    record(session, actor, "unit.member_removed", unit, unit.organisation,
           name=unit.name, user=membership.user.email)
    return membership


def add_leader(session: Session, actor, unit: Unit, user_id: int) -> User:
    """Make a member of the unit's organisation (any role) a leader of the unit; someone
    who is not a member is not found. Adding a leader twice changes nothing."""
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    membership = session.scalar(scoped(Membership, unit.organisation)
                                .where(Membership.user_id == user_id))
    if membership is None:
        raise NotFoundError()
    if session.scalar(select(UnitLeader.id).where(UnitLeader.unit_id == unit.id,
                                                  UnitLeader.user_id == user_id)) is None:
        leader = UnitLeader(organisation_id=unit.organisation_id, unit_id=unit.id,
                            user_id=user_id)
        session.add(leader)
        session.flush()
        record(session, actor, "unit.leader_added", unit, unit.organisation,
               name=unit.name, user=membership.user.email)
    return membership.user


def remove_leader(session: Session, actor, unit: Unit, user_id: int) -> User:
    ensure(actor, Permission.MANAGE_COMPETENCE, unit.organisation)
    leader = session.scalar(select(UnitLeader).where(UnitLeader.unit_id == unit.id,
                                                     UnitLeader.user_id == user_id)
                            .options(selectinload(UnitLeader.user)))
    if leader is None:
        raise NotFoundError()
    record(session, actor, "unit.leader_removed", unit, unit.organisation,
           name=unit.name, user=leader.user.email)
    session.delete(leader)
    return leader.user


def forget_leaderships(session: Session, membership: Membership) -> None:
    """A member leaves the organisation: they lead none of its units any more (leading
    would otherwise still show them the units' people)."""
    session.execute(delete(UnitLeader).where(
        UnitLeader.organisation_id == membership.organisation_id,
        UnitLeader.user_id == membership.user_id))
