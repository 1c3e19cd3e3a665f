"""An organisation's invoice details, edited by its admin on the settings page (issue 13)."""

import pytest
from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.extensions import db
from frikomport.tenancy.models import Organisation, Role
from tests.factories import UserFactory, member

SETTINGS = "/o/kongsberg/admin/settings"
VALID = {
    "name": "Kongsberg kommune",
    "org_number": "964 338 531",
    "invoice_email": "faktura@kongsberg.example.org",
    "receives_ehf": "y",
    "buyer_reference": "Ansvar 1200",
    "invoice_street": "Postboks 115",
    "invoice_postcode": "3602",
    "invoice_city": "Kongsberg",
    "vat_registered": "y",
}
NOTHING_SAVED = ("", "", False, "")


def saved(organisation) -> tuple:
    db.session.refresh(organisation)
    return (organisation.org_number, organisation.invoice_email, organisation.receives_ehf,
            organisation.invoice_postcode)


def test_settings_page_shows_the_invoicing_group(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    page = client.get(SETTINGS).text
    assert "<legend" in page and "Fakturering" in page
    assert "9 siffer, fra Enhetsregisteret" in page


def test_admin_saves_invoice_details(client, login, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    login(admin)
    response = client.post(SETTINGS, data=VALID)
    assert response.status_code == 302
    db.session.refresh(kongsberg)
    assert kongsberg.org_number == "964338531"
    assert (kongsberg.invoice_email, kongsberg.buyer_reference) == (
        "faktura@kongsberg.example.org", "Ansvar 1200")
    assert (kongsberg.invoice_street, kongsberg.invoice_postcode, kongsberg.invoice_city) == (
        "Postboks 115", "3602", "Kongsberg")
    assert kongsberg.receives_ehf is True and kongsberg.vat_registered is True

    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "organisation.updated"))
    assert (event.organisation_id, event.actor_id) == (kongsberg.id, admin.id)
    assert event.details == {"fields": [
        "buyer_reference", "invoice_city", "invoice_email", "invoice_postcode",
        "invoice_street", "org_number", "receives_ehf", "vat_registered"]}
    audit = client.get("/o/kongsberg/admin/audit").text
    assert "Organisasjonsnummer" in audit and "964338531" not in audit


def test_unticking_a_box_is_saved_as_false(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    client.post(SETTINGS, data=VALID)
    response = client.post(SETTINGS, data={**VALID, "vat_registered": ""})
    assert response.status_code == 302
    db.session.refresh(kongsberg)
    assert kongsberg.vat_registered is False and kongsberg.receives_ehf is True
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "organisation.updated").order_by(AuditEvent.id.desc())).first()
    assert event.details == {"fields": ["vat_registered"]}


@pytest.mark.parametrize(("changes", "message"), [
    ({"org_number": "964 338 532"}, "kontrollsifferet"),
    ({"org_number": "96433853"}, "Et organisasjonsnummer har 9 siffer."),
    ({"org_number": "NO964338531MVA"}, "Et organisasjonsnummer har 9 siffer."),
    ({"org_number": ""}, "EHF-fakturaer adresseres til organisasjonsnummeret"),
    ({"invoice_postcode": "12a"}, "Et norsk postnummer har 4 siffer."),
    ({"invoice_email": "faktura"}, "Ugyldig e-postadresse."),
])
def test_bad_invoice_details_are_refused(client, login, kongsberg, changes, message):
    login(member(kongsberg, Role.ADMIN))
    response = client.post(SETTINGS, data={**VALID, **changes})
    assert response.status_code == 400
    assert response.text.count("ds-validation-message") == 1
    assert message in response.text
    assert saved(kongsberg) == NOTHING_SAVED


def test_ehf_error_is_on_the_ehf_box(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    response = client.post(SETTINGS, data={**VALID, "org_number": ""})
    assert 'id="receives_ehf-error"' in response.text
    assert 'href="#receives_ehf"' in response.text  # the error summary links to the box


def test_invoice_details_may_be_left_empty(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    response = client.post(SETTINGS, data={"name": "Kongsberg kommune"})
    assert response.status_code == 302
    assert saved(kongsberg) == NOTHING_SAVED
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "organisation.updated")) is None


def test_organiser_cannot_edit_invoice_details(client, login, kongsberg):
    login(member(kongsberg, Role.ORGANISER))
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, data=VALID).status_code == 403
    assert saved(kongsberg) == NOTHING_SAVED


def test_other_tenants_admin_cannot_edit_invoice_details(client, login, kongsberg, notodden):
    login(member(notodden, Role.ADMIN))
    assert client.get(SETTINGS).status_code == 404
    assert client.post(SETTINGS, data=VALID).status_code == 404
    assert saved(kongsberg) == NOTHING_SAVED
    assert client.post("/o/notodden/admin/settings", data={
        **VALID, "name": "Notodden kommune"}).status_code == 302
    assert saved(kongsberg) == NOTHING_SAVED
    assert saved(notodden)[0] == "964338531"


def test_site_admin_gives_invoice_details_for_a_new_organisation(client, login, app):
    login(UserFactory(is_site_admin=True))
    response = client.post("/admin/organisations/new", data={
        **VALID, "name": "Rollag kommune", "slug": "rollag"})
    assert response.status_code == 302, response.text
    rollag = db.session.scalar(select(Organisation).where(Organisation.slug == "rollag"))
    assert (rollag.org_number, rollag.receives_ehf, rollag.invoice_postcode) == (
        "964338531", True, "3602")
