"""Site administration: only site admins manage tenants and accounts."""

import pytest
from sqlalchemy import select

from frikomport.extensions import db
from frikomport.tenancy.models import Organisation, Role
from tests.factories import OrganisationFactory, UserFactory, member


@pytest.fixture
def site_admin(app):
    return UserFactory(is_site_admin=True, name="Drift Driftesen")


@pytest.mark.parametrize("role", list(Role))
def test_tenant_roles_cannot_open_site_admin(client, login, role):
    login(member(OrganisationFactory(), role))
    assert client.get("/admin/").status_code == 404
    assert client.post("/admin/organisations/new", data={"slug": "x", "name": "X"}
                       ).status_code == 404


def test_anonymous_is_sent_to_login(client, app):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_site_admin_creates_organisation(client, login, site_admin):
    login(site_admin)
    response = client.post("/admin/organisations/new", data={
        "name": "Nore og Uvdal kommune", "slug": "nore-og-uvdal", "region": "Numedal"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/o/nore-og-uvdal/admin/members"
    created = db.session.scalar(select(Organisation).where(Organisation.slug == "nore-og-uvdal"))
    assert created.name == "Nore og Uvdal kommune"
    assert "Nore og Uvdal kommune" in client.get("/admin/").text
    duplicate = client.post("/admin/organisations/new", data={
        "name": "Kopi", "slug": "nore-og-uvdal"})
    assert duplicate.status_code == 400 and "kortnavnet" in duplicate.text


def test_site_admin_disables_account_which_ends_its_sessions(client, login, site_admin, app):
    victim = UserFactory(email="bortreist@example.org")
    victim_client = app.test_client()
    login(victim, test_client=victim_client)
    login(site_admin)
    assert "bortreist@example.org" in client.get("/admin/users?q=BORTREIST").text
    client.post(f"/admin/users/{victim.id}/enabled", data={"enabled": "0"})
    db.session.refresh(victim)
    assert victim.is_enabled is False
    assert victim_client.get("/profile").status_code == 302


def test_site_admin_cannot_disable_self(client, login, site_admin):
    login(site_admin)
    page = client.post(f"/admin/users/{site_admin.id}/enabled", data={"enabled": "0"},
                       follow_redirects=True).text
    assert "din egen konto" in page
    db.session.refresh(site_admin)
    assert site_admin.is_enabled


def test_user_search_treats_wildcards_literally(client, login, site_admin):
    UserFactory(email="vanlig@example.org")
    login(site_admin)
    assert "vanlig@example.org" not in client.get("/admin/users?q=%25").text
