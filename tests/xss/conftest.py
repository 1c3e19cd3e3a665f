"""The seeded world every module of the package checks: :func:`tests.seeded_world.seed_world`
(the factories) with the payload in every text, and then the portal's own forms, so that
form filters, audit details, flash messages, the outbox and e-mails carry it too."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask import template_rendered
from sqlalchemy import select

from frikomport.accounts import services as account_services
from frikomport.accounts.models import User
from frikomport.courses.models import Category, Course, Location, ServiceArea
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.registrations import services as registration_services
from frikomport.registrations.models import Registration
from frikomport.search import indexer, service
from frikomport.tenancy.models import Organisation
from frikomport.timeutil import to_local
from tests.conftest import _wipe, make_app
from tests.factories import DEFAULT_PASSWORD, CourseFactory, in_days, register
from tests.helpers import link_in, outbox, write_deferred
from tests.seeded_world import PDF, log_in, role_clients, seed_world
from tests.xss.checks import MARKDOWN, PAYLOAD, SHORT_PAYLOAD, URL_PAYLOAD

# The seeded world --------------------------------------------------------------------------

@dataclass
class Setup:
    app: object
    world: object
    clients: dict
    ids: dict = field(default_factory=dict)
    templates: set = field(default_factory=set)  # every template rendered while seeding
    # Pages answered to the flows (after redirects), e.g. with flash messages that echo
    # what was typed: (label, where the payload must show: "flash", "page" or "", html).
    pages: list = field(default_factory=list)


def _text(value: str) -> str:
    return f"{value} {PAYLOAD}"


def _created_course_id(response) -> int:
    assert response.status_code == 302, response.text[:2000]
    return int(re.search(r"/(\d+)/edit$", urlsplit(response.headers["Location"]).path)[1])


def _one(statement):
    return db.session.scalars(statement).one()


def _page(setup: Setup, label: str, response, expect: str = "flash") -> None:
    assert response.status_code == 200, (label, response.status_code, response.text[:2000])
    setup.pages.append((label, expect, response.get_data(as_text=True)))


def _post(client, path, data, expect=302):
    response = client.post(path, data=data)
    assert response.status_code == expect, (path, response.status_code, response.text[:3000])
    return response


def course_form(category, service_area, location, **overrides) -> dict:
    day = (to_local(utcnow()) + timedelta(days=20)).date().isoformat()
    data = {
        "title": _text("Markdownkurs"), "summary": _text("Kort om kurset"),
        "description": MARKDOWN, "category": str(category), "service_area": str(service_area),
        "location": str(location), "target_group": _text("Alle"),
        "instructor": _text("Ingrid Instruktør"), "contact_name": _text("Kari Kontakt"),
        "contact_email": "kontakt@alfa.example.org", "contact_phone": f"12{SHORT_PAYLOAD}",
        "fee_host_ore": "0", "capacity": "1", "reserved_seats": "0", "visibility": "public",
        "allow_guests": "y", "sessions-0-day": day, "sessions-0-starts": "09:00",
        "sessions-0-ends": "15:00", "sessions-1-day": "", "sessions-1-starts": "",
        "sessions-1-ends": "",
    }
    return data | overrides


def seed_through_the_portal(setup: Setup) -> None:
    """What seed_world (factories) does not reach: text typed into the portal's forms."""
    app, clients, ids = setup.app, setup.clients, setup.ids
    admin, organiser, employee = clients["admin"], clients["organiser"], clients["employee"]
    alfa = _one(select(Organisation).where(Organisation.slug == "alfa"))
    category = _one(select(Category).where(Category.organisation_id == alfa.id))
    area = _one(select(ServiceArea).where(ServiceArea.organisation_id == alfa.id))

    # Vocabulary: the flash message repeats the name that was typed.
    _page(setup, "category added", admin.post("/o/alfa/admin/categories", data={
        "name": _text("Kategori")}, follow_redirects=True))
    _post(admin, "/o/alfa/admin/service-areas", {"name": _text("Helse og omsorg")})
    _post(admin, "/o/alfa/admin/locations", {
        "name": _text("Kulturhuset"), "address": _text("Storgata 2"), "room": _text("Sal B"),
        "capacity": "30", "map_url": URL_PAYLOAD})
    location = _one(select(Location).where(Location.organisation_id == alfa.id,
                                           Location.map_url == URL_PAYLOAD))

    # Organisation settings (the website is a link), and a new tenant (flash repeats it).
    _post(admin, "/o/alfa/admin/settings", {
        "name": _text("Alfa kommune"), "region": _text("Region"),
        "description": _text("Om Alfa\n\nFlere linjer"), "contact_email": "kurs@alfa.example.org",
        "contact_phone": f"12{SHORT_PAYLOAD}", "website": URL_PAYLOAD})
    _page(setup, "organisation created", clients["site_admin"].post(
        "/admin/organisations/new", data={
            "slug": "gamma", "name": _text("Gamma"), "region": _text("Region"),
            "description": _text("Om Gamma"), "contact_email": "", "contact_phone": "",
            "website": URL_PAYLOAD}, follow_redirects=True))

    # A course made with the course form: hostile Markdown, every text field, a location
    # with a map link; published so that search, feeds and registration see it.
    created = _post(organiser, "/o/alfa/admin/courses/new",
                    course_form(category.id, area.id, location.id))
    course_id = ids["markdown_course"] = _created_course_id(created)
    _post(organiser, f"/o/alfa/admin/courses/{course_id}/publish", {})
    upload = organiser.post(f"/o/alfa/admin/courses/{course_id}/attachments", data={
        # (a quote would end the file name in the multipart header, as browsers send it)
        "file": (io.BytesIO(PDF), _text("Kursplan").replace('"', "") + ".pdf")},
        content_type="multipart/form-data")
    assert upload.status_code == 302, upload.text[:3000]

    # Registrations: confirmed (with .ics), waiting list, guest (twice: "already
    # registered"), cancelled (promotes the waiting one), awaiting approval, rejected.
    _post(employee, f"/courses/{course_id}/register", {"comment": _text("Allergi")})
    outsider = app.test_client()
    log_in(outsider, SimpleNamespace(email="employee@beta.example.org"))
    _post(outsider, f"/courses/{course_id}/register", {"comment": _text("Venter")})
    guest = {"name": _text("Gro Gjest"), "email": "gro@example.net",
             "phone": f"9{SHORT_PAYLOAD}", "employer": _text("Privat AS"),
             "comment": _text("Rullestol")}
    _page(setup, "guest registered", clients["anonymous"].post(
        f"/courses/{course_id}/register/guest", data=guest, follow_redirects=True),
        expect="page")
    confirmation, = outbox("gro@example.net")
    _page(setup, "guest confirmed", clients["anonymous"].get(
        link_in(confirmation, "/registrations/confirm/"), follow_redirects=True), expect="page")
    _page(setup, "guest registered again", clients["anonymous"].post(
        f"/courses/{course_id}/register/guest", data=guest, follow_redirects=True),
        expect="page")
    _post(organiser, f"/o/alfa/admin/courses/{course_id}/participants/email", {
        "subject": _text("Viktig\r\nBcc: evil@example.org"),
        "body": _text("Hei!\r\n\r\nHusk matpakke.") + "\n" + PAYLOAD,
        "include_waitlisted": "y"})
    mine = _one(select(Registration.id).where(Registration.course_id == course_id,
                                              Registration.email == "employee@alfa.example.org"))
    _post(employee, f"/me/registrations/{mine}/cancel", {})
    approval = _one(select(Course.id).where(Course.organisation_id == alfa.id,
                                            Course.requires_approval.is_(True)))
    _post(outsider, f"/courses/{approval}/register", {"comment": _text("Godkjenn meg")})
    waiting = _one(select(Registration.id).where(Registration.course_id == approval,
                                                 Registration.email == "employee@beta.example.org"))
    _post(organiser, f"/o/alfa/admin/courses/{approval}/participants/{waiting}/reject", {})

    # A course cancelled with a reason (e-mailed to everyone registered).
    doomed = CourseFactory(organisation=alfa, title=_text("Avlyses"),
                           summary=_text("Kort om kurset"), sessions=[in_days(5)])
    register(doomed, setup.world.users["employee"], comment=_text("Kommer"))
    _post(organiser, f"/o/alfa/admin/courses/{doomed.id}/cancel",
          {"reason": _text("Instruktøren er syk.\r\n\r\nNy dato kommer.")})
    ids["cancelled_course"] = doomed.id

    # Reminders (the scheduled job), members, invitations, accounts.
    registration_services.send_reminders(db.session, days_before=30)
    db.session.commit()
    _post(admin, "/o/alfa/admin/members", {"email": "invitert@example.net",
                                           "name": _text("Ivar Invitert"),
                                           "role": "organiser"})
    invitation = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == "invitert@example.net")).one()
    ids["invitation_token"] = link_in(invitation, "/invitations/").rsplit("/", 1)[1]
    membership = setup.world.users["employee"].memberships[0]
    _page(setup, "role changed", admin.post(
        f"/o/alfa/admin/members/{membership.id}/role", data={"role": "employee"},
        follow_redirects=True))
    _page(setup, "profile saved", employee.post("/profile", data={
        "name": _text("Eva Employee"), "phone": f"4{SHORT_PAYLOAD}",
        "job_title": _text("Lærer"), "locale": "nb"}, follow_redirects=True), expect="page")
    _page(setup, "logged in", app.test_client().post("/login", data={
        "email": "employee@alfa.example.org", "password": DEFAULT_PASSWORD},
        follow_redirects=True))
    anonymous = app.test_client()
    _page(setup, "signed up", anonymous.post("/signup", data={
        "name": _text("Sigrid Ny"), "email": "sigrid@alfa.example.org",
        "phone": f"4{SHORT_PAYLOAD}", "organisation": str(alfa.id)}), expect="")
    _post(anonymous, "/signup", {"name": _text("Eva igjen"), "email": "employee@alfa.example.org",
                                 "phone": "", "organisation": str(alfa.id)}, expect=200)
    _post(anonymous, "/password/forgot", {"email": "employee@alfa.example.org"})
    account_services.send_email_confirmation(
        db.session, _one(select(User).where(User.email == "new@alfa.example.org")))
    db.session.commit()

    # Input echoed from the query string into a flash message.
    for path in ("/courses/", "/courses/calendar"):
        _page(setup, f"{path}?month=", clients["anonymous"].get(
            path, query_string={"month": PAYLOAD}))

    _competence_flows(setup, alfa)

    # An e-mail that could not be delivered: the site admin's outbox page shows it.
    write_deferred()
    failed = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.subject.contains("Viktig"))).first()
    failed.status, failed.attempts = OutboxStatus.FAILED, 5
    failed.last_error = f"550 5.1.1 <{PAYLOAD}> rejected"
    db.session.commit()

    setup.world.fills += [
        {"slug": "alfa", "course_id": str(course_id)},
        {"slug": "alfa", "course_id": str(doomed.id)},
        {"slug": "alfa", "token": ids["invitation_token"]},
    ]


def _competence_flows(setup: Setup, alfa) -> None:
    """An uploaded certificate decided with a note, an invitation to a course that grants
    what the unit needs, and reminders to a person and their unit's leader: every
    competence e-mail, with the payload in the names and texts they repeat."""
    from frikomport.competence.models import Competence, CompetenceRecord, CourseCompetence
    from frikomport.competence.reminders import send_expiry_reminders
    from frikomport.tenancy.models import Membership
    from frikomport.units.models import Unit

    clients, users = setup.clients, setup.world.users
    region = _one(select(Competence).where(Competence.organisation_id.is_(None)))
    _post(clients["employee"], "/me/competence/external", {
        "competence": str(region.id), "title": _text("Kurs hos Norsk Folkehjelp"),
        "issuer": _text("Røde Kors"), "achieved_on": to_local(utcnow()).date().isoformat(),
        "file": (io.BytesIO(PDF), "bevis.pdf")})
    uploaded = db.session.scalars(select(CompetenceRecord).where(
        CompetenceRecord.title == _text("Kurs hos Norsk Folkehjelp"))).one()
    _post(clients["admin"], f"/o/alfa/admin/competence/approvals/{uploaded.id}",
          {"decision": "reject", "note": _text("Uleselig")})
    # The admin joins the unit the organiser leads; their HLR runs out in ten days.
    unit = _one(select(Unit).where(Unit.organisation_id == alfa.id))
    admin = users["admin"]
    _one(select(Membership).where(Membership.user_id == admin.id)).unit_id = unit.id
    today = to_local(utcnow()).date()
    db.session.add(CompetenceRecord(
        user_id=admin.id, competence_id=region.id, source="course", status="approved",
        valid_from=today - timedelta(days=355), valid_until=today + timedelta(days=10),
        title=_text("HLR"), issuer=_text("Alfa kommune")))
    renewing = CourseFactory(organisation=alfa, title=_text("HLR-oppfrisking"),
                             summary=_text("Kort om kurset"), sessions=[in_days(8)])
    db.session.add(CourseCompetence(organisation_id=alfa.id, course_id=renewing.id,
                                    competence_id=region.id))
    db.session.commit()
    _post(clients["organiser"], f"/o/alfa/admin/courses/{renewing.id}/invite-needing",
          {"months": "6"})
    assert send_expiry_reminders(db.session) >= 1
    db.session.commit()


@pytest.fixture(scope="package")
def xss_setup(database_url, tmp_path_factory):
    """One app per backend with the payload everywhere, and the Whoosh index built: seeded
    once per backend for the whole package (every module of it reads the same world)."""
    app = make_app(database_url, tmp_path_factory.mktemp("xss"))
    rendered = set()

    def remember(_sender, template, context, **_extra):
        rendered.add(template.name)

    with app.app_context():
        with template_rendered.connected_to(remember, app):
            _wipe(db.engine)
            world = seed_world(payload=PAYLOAD, short_payload=SHORT_PAYLOAD)
            setup = Setup(app, world, role_clients(app, world), templates=rendered)
            seed_through_the_portal(setup)
        indexer.rebuild(db.session, service.backend_for(app))
        db.session.commit()
        yield setup
        db.session.remove()
        _wipe(db.engine)
        db.engine.dispose()
