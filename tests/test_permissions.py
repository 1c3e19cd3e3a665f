"""The role matrix, checked without the web layer."""

import pytest

from frikomport.errors import NotFoundError, PermissionDeniedError
from frikomport.permissions import (
    ROLE_MATRIX,
    Permission,
    can,
    ensure,
    ensure_region_statistics,
)
from frikomport.tenancy.models import Role
from tests.factories import OrganisationFactory, UserFactory, member

ORG_PERMISSIONS = [p for p in Permission if p != Permission.MANAGE_TENANTS]

EXPECTED = {
    Role.EMPLOYEE: set(),
    Role.ORGANISER: {Permission.VIEW_MEMBERS, Permission.MANAGE_COURSES,
                     Permission.VIEW_HOST_STATISTICS, Permission.VIEW_COMPETENCE_DEMAND},
    Role.ADMIN: set(ORG_PERMISSIONS),
}


def test_roles_are_ordered_by_privilege():
    assert Role.EMPLOYEE.rank < Role.ORGANISER.rank < Role.ADMIN.rank
    for lower, higher in [(Role.EMPLOYEE, Role.ORGANISER), (Role.ORGANISER, Role.ADMIN)]:
        assert ROLE_MATRIX[lower] <= ROLE_MATRIX[higher]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", ORG_PERMISSIONS)
def test_matrix_in_own_and_other_organisation(app, role, permission):
    home, other = OrganisationFactory(), OrganisationFactory()
    user = member(home, role)
    assert can(user, permission, home) is (permission in EXPECTED[role])
    assert can(user, permission, other) is False
    with pytest.raises(NotFoundError):
        ensure(user, permission, other)


def test_member_with_too_low_role_is_forbidden_not_hidden(app):
    home = OrganisationFactory()
    employee = member(home, Role.EMPLOYEE)
    with pytest.raises(PermissionDeniedError):
        ensure(employee, Permission.VIEW_MEMBERS, home)


def test_site_admin_may_do_everything_and_others_may_not_manage_tenants(app):
    organisation = OrganisationFactory()
    site_admin = UserFactory(is_site_admin=True)
    tenant_admin = member(organisation, Role.ADMIN)
    assert all(can(site_admin, p, organisation) for p in Permission)
    assert not can(tenant_admin, Permission.MANAGE_TENANTS)
    with pytest.raises(NotFoundError):
        ensure(tenant_admin, Permission.MANAGE_TENANTS)


def test_disabled_user_and_anonymous_may_do_nothing(app):
    organisation = OrganisationFactory()
    disabled = member(organisation, Role.ADMIN, is_enabled=False)
    assert not any(can(disabled, p, organisation) for p in Permission)
    assert not any(can(None, p, organisation) for p in Permission)


@pytest.mark.parametrize("role", list(Role))
def test_the_region_statistics_are_for_admins_of_any_organisation(app, role):
    user = member(OrganisationFactory(), role)
    if role == Role.ADMIN:
        ensure_region_statistics(user)
    else:
        with pytest.raises(PermissionDeniedError):
            ensure_region_statistics(user)
    ensure_region_statistics(UserFactory(is_site_admin=True))
    with pytest.raises(NotFoundError):
        ensure_region_statistics(None)
