"""Organisation pages, member management and tenant isolation."""

import io

import pytest
from PIL import Image
from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.tenancy import services
from frikomport.tenancy.models import Role
from tests.factories import UserFactory, member
from tests.helpers import roles_of


def test_organisation_page_is_public(client, kongsberg):
    response = client.get("/o/kongsberg/")
    assert response.status_code == 200
    assert "Kongsberg kommune" in response.text
    assert client.get("/o/finnes-ikke/").status_code == 404


@pytest.mark.parametrize(("role", "status"), [
    (Role.EMPLOYEE, 403), (Role.ORGANISER, 200), (Role.ADMIN, 200)])
def test_member_list_by_role_in_own_organisation(client, login, kongsberg, role, status):
    login(member(kongsberg, role))
    assert client.get("/o/kongsberg/admin/members").status_code == status


@pytest.mark.parametrize("role", list(Role))
def test_other_tenants_members_answer_404(client, login, kongsberg, flesberg, role):
    """An organiser (or admin) in Flesberg can neither read nor change Kongsberg's members."""
    victim = member(kongsberg, Role.EMPLOYEE, email="ansatt@kongsberg.example.org")
    membership_id = victim.memberships[0].id
    member(kongsberg, Role.ADMIN)
    login(member(flesberg, role))

    assert client.get("/o/kongsberg/admin/").status_code == 404
    assert client.get("/o/kongsberg/admin/members").status_code == 404
    assert client.get("/o/kongsberg/admin/settings").status_code == 404
    assert client.get("/o/kongsberg/admin/audit").status_code == 404
    assert client.post(f"/o/kongsberg/admin/members/{membership_id}/role",
                       data={"role": "admin"}).status_code == 404
    assert client.post(f"/o/kongsberg/admin/members/{membership_id}/remove").status_code == 404
    assert client.post("/o/kongsberg/admin/members", data={
        "email": "spion@flesberg.example.org", "role": "admin"}).status_code == 404
    assert roles_of(kongsberg)["ansatt@kongsberg.example.org"] == Role.EMPLOYEE
    assert "spion@flesberg.example.org" not in roles_of(kongsberg)


def test_membership_ids_are_scoped_to_the_organisation_in_the_url(client, login, kongsberg,
                                                                  flesberg):
    """A Flesberg admin cannot reach a Kongsberg membership through Flesberg's URL."""
    kongsberg_member = member(kongsberg, Role.EMPLOYEE)
    login(member(flesberg, Role.ADMIN))
    membership_id = kongsberg_member.memberships[0].id
    assert client.post(f"/o/flesberg/admin/members/{membership_id}/role",
                       data={"role": "admin"}).status_code == 404
    assert client.post(f"/o/flesberg/admin/members/{membership_id}/remove").status_code == 404
    assert roles_of(kongsberg)[kongsberg_member.email] == Role.EMPLOYEE


def test_member_list_shows_only_own_members(client, login, kongsberg, flesberg):
    member(flesberg, Role.EMPLOYEE, email="annen@flesberg.example.org")
    member(kongsberg, Role.EMPLOYEE, email="egen@kongsberg.example.org")
    login(member(kongsberg, Role.ORGANISER))
    page = client.get("/o/kongsberg/admin/members").text
    assert "egen@kongsberg.example.org" in page
    assert "annen@flesberg.example.org" not in page


def test_organiser_sees_members_but_cannot_change_them(client, login, kongsberg):
    employee = member(kongsberg, Role.EMPLOYEE)
    login(member(kongsberg, Role.ORGANISER))
    page = client.get("/o/kongsberg/admin/members").text
    assert "Legg til en person" not in page
    response = client.post(f"/o/kongsberg/admin/members/{employee.memberships[0].id}/role",
                           data={"role": "admin"})
    assert response.status_code == 403
    assert roles_of(kongsberg)[employee.email] == Role.EMPLOYEE
    assert client.get("/o/kongsberg/admin/settings").status_code == 403


def test_admin_changes_role_and_it_is_audited(client, login, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    employee = member(kongsberg, Role.EMPLOYEE)
    login(admin)
    response = client.post(f"/o/kongsberg/admin/members/{employee.memberships[0].id}/role",
                           data={"role": "organiser"})
    assert response.status_code == 302
    assert roles_of(kongsberg)[employee.email] == Role.ORGANISER
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "membership.role_changed"))
    assert (event.organisation_id, event.actor_id) == (kongsberg.id, admin.id)
    assert event.details == {"user": employee.email, "old": "employee", "new": "organiser"}
    audit = client.get("/o/kongsberg/admin/audit").text
    assert "membership.role_changed" not in audit  # a sentence, not the internal code
    assert employee.email in audit and "«Ansatt» → «Kursarrangør»" in audit


def test_unknown_role_is_a_clear_error(client, login, kongsberg):
    employee = member(kongsberg, Role.EMPLOYEE)
    login(member(kongsberg, Role.ADMIN))
    response = client.post(f"/o/kongsberg/admin/members/{employee.memberships[0].id}/role",
                           data={"role": "emperor"}, follow_redirects=True)
    assert "Not a valid choice" in response.text or "Ikke et gyldig valg" in response.text
    assert roles_of(kongsberg)[employee.email] == Role.EMPLOYEE


def test_last_admin_cannot_be_demoted_or_removed(client, login, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    login(admin)
    membership_id = admin.memberships[0].id
    page = client.post(f"/o/kongsberg/admin/members/{membership_id}/role",
                       data={"role": "employee"}, follow_redirects=True).text
    assert "minst én administrator" in page
    client.post(f"/o/kongsberg/admin/members/{membership_id}/remove")
    assert roles_of(kongsberg)[admin.email] == Role.ADMIN


def test_admin_removes_member(client, login, kongsberg):
    employee = member(kongsberg, Role.EMPLOYEE)
    login(member(kongsberg, Role.ADMIN))
    client.post(f"/o/kongsberg/admin/members/{employee.memberships[0].id}/remove")
    assert employee.email not in roles_of(kongsberg)


def png_bytes(size=(120, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 80, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_admin_edits_settings_and_uploads_logo(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    response = client.post("/o/kongsberg/admin/settings", data={
        "name": "Kongsberg kommune", "region": "Kongsbergregionen",
        "contact_email": "kurs@kongsberg.example.org", "website": "https://kongsberg.example.org",
        "logo": (io.BytesIO(png_bytes()), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(kongsberg)
    assert kongsberg.contact_email == "kurs@kongsberg.example.org"
    logo = client.get("/o/kongsberg/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert Image.open(io.BytesIO(logo.data)).size == (120, 60)


@pytest.mark.parametrize(("upload", "message"), [
    (b"%PDF-1.4 not an image", "må være et PNG-"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "må være et PNG-"),
    (b"\x89PNG" + b"0" * (2 * 1024 * 1024), "høyst 2 MB"),
])
def test_bad_logo_is_refused_and_nothing_is_saved(client, login, kongsberg, upload, message):
    login(member(kongsberg, Role.ADMIN))
    response = client.post("/o/kongsberg/admin/settings", data={
        "name": "Nytt navn", "logo": (io.BytesIO(upload), "logo.png")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.text
    db.session.refresh(kongsberg)
    assert (kongsberg.name, kongsberg.logo_filename) == ("Kongsberg kommune", None)


def test_settings_bad_input(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    response = client.post("/o/kongsberg/admin/settings", data={
        "name": "", "website": "javascript:alert(1)", "contact_email": "nei"})
    assert response.status_code == 400
    assert response.text.count("ds-validation-message") == 3


def test_service_refuses_bad_slug_and_duplicates(app):
    site_admin = UserFactory(is_site_admin=True)
    services.create_organisation(db.session, site_admin, slug="rollag", name="Rollag kommune")
    for slug in ["rollag", "Ugyldig slug", "admin"]:
        with pytest.raises(DomainError):
            services.create_organisation(db.session, site_admin, slug=slug, name="X")

