"""The one place that decides who may do what (role matrix).

Views, services and templates ask :func:`can` or :func:`ensure`; nothing else compares
roles. Denials distinguish two cases on purpose: someone with no role in the
organisation is told the object does not exist (404), so tenants cannot probe each
other's private data; a member whose role is too low is told it is forbidden (403).
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, and_, or_

from frikomport.courses.models import Course, CourseState, Visibility
from frikomport.errors import NotFoundError, PermissionDeniedError
from frikomport.tenancy.models import Organisation, Role


class Permission(enum.StrEnum):
    # Organisation-level permissions (checked against a role in that organisation)
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    EDIT_ORGANISATION = "edit_organisation"
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_COURSES = "manage_courses"
    MANAGE_TAXONOMY = "manage_taxonomy"
    VIEW_HOST_STATISTICS = "view_host_statistics"          # figures of its own courses
    VIEW_EMPLOYER_STATISTICS = "view_employer_statistics"  # figures of its own people
    # Competence (issue 14): the organisation's own competences, units, leaders and
    # requirements, approving external certificates, every unit's matrix.
    MANAGE_COMPETENCE = "manage_competence"
    VIEW_COMPETENCE_DEMAND = "view_competence_demand"  # the region's demand, to plan courses
    # Single sign-on (issue 15): the organisation's OpenID Connect provider and domains.
    MANAGE_SSO = "manage_sso"
    # Site-level permission (site admins only)
    MANAGE_TENANTS = "manage_tenants"


_ORGANISER = frozenset({Permission.VIEW_MEMBERS, Permission.MANAGE_COURSES,
                        Permission.VIEW_HOST_STATISTICS, Permission.VIEW_COMPETENCE_DEMAND})

ROLE_MATRIX: dict[Role, frozenset[Permission]] = {
    Role.EMPLOYEE: frozenset(),
    Role.ORGANISER: _ORGANISER,
    Role.ADMIN: _ORGANISER
    | {
        Permission.MANAGE_MEMBERS,
        Permission.EDIT_ORGANISATION,
        Permission.VIEW_AUDIT_LOG,
        Permission.MANAGE_TAXONOMY,
        Permission.VIEW_EMPLOYER_STATISTICS,
        Permission.MANAGE_COMPETENCE,
        Permission.MANAGE_SSO,
    },
}

SITE_PERMISSIONS = frozenset({Permission.MANAGE_TENANTS})


def _is_authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def role_in(user, organisation: Organisation) -> Role | None:
    if not _is_authenticated(user):
        return None
    return user.role_in(organisation.id)


def can(user, permission: Permission, organisation: Organisation | None = None) -> bool:
    """True if ``user`` holds ``permission`` (in ``organisation`` for tenant permissions)."""
    if not _is_authenticated(user) or not user.is_active:
        return False
    if user.is_site_admin:
        return True
    if permission in SITE_PERMISSIONS or organisation is None:
        return False
    role = role_in(user, organisation)
    return role is not None and permission in ROLE_MATRIX[role]


def ensure(user, permission: Permission, organisation: Organisation | None = None) -> None:
    """Raise unless ``user`` may use ``permission``; outsiders get NotFoundError."""
    if can(user, permission, organisation):
        return
    is_member = organisation is not None and role_in(user, organisation) is not None
    if is_member:
        raise PermissionDeniedError()
    raise NotFoundError()


def administered_organisations(user) -> list[Organisation]:
    """Organisations whose back office the user may open (organiser or admin)."""
    if not _is_authenticated(user):
        return []
    return [
        m.organisation for m in user.memberships
        if Permission.VIEW_MEMBERS in ROLE_MATRIX[m.role]
    ]


def ensure_region_statistics(user) -> None:
    """The region's totals are read by the site admin and every organisation's admin."""
    if not _is_authenticated(user) or not user.is_active:
        raise NotFoundError()
    if user.is_site_admin or any(m.role == Role.ADMIN for m in user.memberships):
        return
    raise PermissionDeniedError()


# Units and competence -------------------------------------------------------------------
# A unit's leader sees the unit's people and their competence; the organisation's admins
# see every unit. Leading is per unit (frikomport.units.models.UnitLeader) and gives
# nothing else in the organisation.

def led_unit_ids(user, organisation_id: int | None = None) -> set[int]:
    """The units ``user`` leads (in one organisation, if given)."""
    if not _is_authenticated(user) or not user.is_active:
        return set()
    return {leadership.unit_id for leadership in user.unit_leaderships
            if organisation_id is None or leadership.organisation_id == organisation_id}


def can_view_unit(user, unit) -> bool:
    """May ``user`` see this unit's people and their competence?"""
    return (can(user, Permission.MANAGE_COMPETENCE, unit.organisation)
            or unit.id in led_unit_ids(user, unit.organisation_id))


def ensure_can_view_unit(user, unit) -> None:
    if can_view_unit(user, unit):
        return
    if role_in(user, unit.organisation) is not None:
        raise PermissionDeniedError()
    raise NotFoundError()


def can_decide_record(user, organisation: Organisation, unit_id: int | None) -> bool:
    """May ``user`` approve a person's external certificate? The admins of the person's
    organisation, and the leader of the person's unit there."""
    return (can(user, Permission.MANAGE_COMPETENCE, organisation)
            or (unit_id is not None and unit_id in led_unit_ids(user, organisation.id)))


def ensure_region_catalogue(user) -> None:
    """The region's competence catalogue is curated by the site admin."""
    ensure(user, Permission.MANAGE_TENANTS)


# Courses -------------------------------------------------------------------------------
# Visibility: `public` = everyone; `region` = logged-in members of any organisation;
# `internal` = members of the host organisation. Drafts are seen only by those who may
# manage the host organisation's courses.

LISTED_STATES = (CourseState.PUBLISHED, CourseState.CANCELLED, CourseState.FINISHED)


def _member_organisation_ids(user) -> list[int]:
    if not _is_authenticated(user) or not user.is_active:
        return []
    return [m.organisation_id for m in user.memberships]


def visible_courses_clause(user) -> ColumnElement[bool]:
    """SQL condition selecting the non-draft courses ``user`` may see."""
    listed = Course.state.in_(LISTED_STATES)
    if _is_authenticated(user) and user.is_active and user.is_site_admin:
        return listed
    allowed = [Course.visibility == Visibility.PUBLIC]
    organisation_ids = _member_organisation_ids(user)
    if organisation_ids:
        allowed.append(Course.visibility == Visibility.REGION)
        allowed.append(and_(Course.visibility == Visibility.INTERNAL,
                            Course.organisation_id.in_(organisation_ids)))
    return and_(listed, or_(*allowed))


def can_view_course(user, course: Course) -> bool:
    """The per-object twin of :func:`visible_courses_clause` (plus drafts for organisers)."""
    if can(user, Permission.MANAGE_COURSES, course.organisation):
        return True
    if course.state not in LISTED_STATES:
        return False
    if course.visibility == Visibility.PUBLIC:
        return True
    organisation_ids = _member_organisation_ids(user)
    if course.visibility == Visibility.REGION:
        return bool(organisation_ids)
    return course.organisation_id in organisation_ids


def ensure_can_view_course(user, course: Course) -> None:
    if not can_view_course(user, course):
        raise NotFoundError()
