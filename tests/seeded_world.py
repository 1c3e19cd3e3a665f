"""The seeded world the route walks use: two tenants with data in every state, who
plays each role, and consistent values for path arguments (see :mod:`tests.routewalk`)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from frikomport.accounts import tokens as account_tokens
from frikomport.billing import credits
from frikomport.billing import services as billing
from frikomport.courses import attachments
from frikomport.courses.models import CourseState, Visibility
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage
from frikomport.registrations import tokens as registration_tokens
from frikomport.registrations.models import RegistrationState
from frikomport.tenancy import invitations
from frikomport.tenancy.models import Role
from tests.factories import (
    DEFAULT_PASSWORD,
    CategoryFactory,
    CourseFactory,
    LocationFactory,
    OrganisationFactory,
    ServiceAreaFactory,
    UserFactory,
    in_days,
    member,
    register,
)
from tests.helpers import link_in

ROLES = ("anonymous", "employee", "organiser", "admin", "site_admin")
PDF = b"%PDF-1.4\n%fake but good enough for the magic check\n"


@dataclass
class World:
    """Seeded data: who plays each role, and consistent values for path arguments."""

    users: dict[str, object]
    fills: list[dict[str, str]]
    emails: dict[str, str] = field(default_factory=dict)


def seed_world(payload: str = "", short_payload: str | None = None) -> World:
    """Two tenants with courses in every state, registrations in every state, vocabulary,
    an attachment and signed links. ``payload`` is put into every text the portal stores
    (the XSS test); empty for plain data. ``short_payload`` (default: ``payload``) is used
    instead in the columns too short for it (phone numbers, 40 characters)."""
    text = (lambda value: f"{value} {payload}".strip()) if payload else (lambda value: value)
    short = text if short_payload is None else (lambda value: f"{value} {short_payload}".strip())
    alfa = OrganisationFactory(slug="alfa", name=text("Alfa kommune"),
                               description=text("Om Alfa"), region=text("Region"))
    beta = OrganisationFactory(slug="beta", name=text("Beta kommune"))
    users = {
        "admin": member(alfa, Role.ADMIN, name=text("Anne Admin"), email="admin@alfa.example.org",
                        phone=short("123"), job_title=text("Leder")),
        "organiser": member(alfa, Role.ORGANISER, name=text("Ola Organiser"),
                            email="organiser@alfa.example.org"),
        "employee": member(alfa, Role.EMPLOYEE, name=text("Eva Employee"),
                           email="employee@alfa.example.org"),
        "site_admin": UserFactory(name=text("Siri Site"), email="site@example.org",
                                  is_site_admin=True),
    }
    beta_admin = member(beta, Role.ADMIN, name=text("Bjørn Beta"), email="admin@beta.example.org")
    outsider = member(beta, Role.EMPLOYEE, name=text("Berit Beta"),
                      email="employee@beta.example.org")
    unconfirmed = UserFactory(name=text("Ulla Ubekreftet"), email="new@alfa.example.org",
                              email_confirmed_at=None, home_organisation=alfa)

    category = CategoryFactory(organisation=alfa, name=text("Helse"))
    area = ServiceAreaFactory(organisation=alfa, name=text("Oppvekst"))
    location = LocationFactory(organisation=alfa, name=text("Rådhuset"),
                               address=text("Gata 1"), room=text("Sal A"))
    common = {"summary": text("Kort om kurset"), "description": text("**Mye** om kurset"),
              "target_group": text("Alle"), "instructor": text("Ingrid Instruktør"),
              "contact_name": text("Kari Kontakt"), "contact_email": "kontakt@alfa.example.org",
              "category": category, "service_area": area, "location": location}
    open_course = CourseFactory(organisation=alfa, title=text("Førstehjelp"), capacity=2,
                                allow_guests=True, visibility=Visibility.PUBLIC,
                                sessions=[in_days(10), in_days(11)], **common)
    approval = CourseFactory(organisation=alfa, title=text("Brannvern"), requires_approval=True,
                             allow_guests=True, visibility=Visibility.REGION, **common)
    draft = CourseFactory(organisation=alfa, title=text("Utkast"), state=CourseState.DRAFT,
                          published_at=None, **common)
    cancelled = CourseFactory(organisation=alfa, title=text("Avlyst"),
                              state=CourseState.CANCELLED, cancel_reason=text("Syk"), **common)
    past = CourseFactory(organisation=alfa, title=text("Ferdig"), state=CourseState.FINISHED,
                         sessions=[in_days(-30)], fee_host_ore=50_000, fee_region_ore=62_500,
                         **common)
    internal = CourseFactory(organisation=beta, title=text("Internt i Beta"),
                             visibility=Visibility.INTERNAL)

    seated = register(open_course, users["employee"], comment=text("Allergi"))
    waiting = register(open_course, outsider, RegistrationState.WAITLISTED, comment=text("Vent"))
    register(open_course, users["organiser"])
    pending = register(approval, users["employee"], RegistrationState.PENDING)
    attended = register(past, users["employee"], RegistrationState.ATTENDED, fee_ore=50_000,
                        fee_kind="host")
    _invoice_and_credit(alfa, users, past, outsider, text)
    competence = _competence_world(alfa, beta, users, past, attended, text)
    guest = _guest(approval, text, short)
    attachment = attachments.add_attachment(db.session, users["admin"], open_course,
                                            f"{text('program')}.pdf", io.BytesIO(PDF))
    users["employee"].calendar_token = "personal-calendar-token-0123456789abcdef"
    waiting_domain = _sso_world(alfa, users, short)
    db.session.commit()
    invited_new, invite_token_new = _invite(alfa, users["admin"], "ny@alfa.example.org", text)
    _invited_known, invite_token_known = _invite(alfa, users["admin"], outsider.email, text)

    tokens = [
        account_tokens.make_confirm_token(unconfirmed),
        account_tokens.make_reset_token(users["employee"]),
        registration_tokens.make(registration_tokens.CANCEL, seated),
        registration_tokens.make(registration_tokens.CANCEL, waiting),
        registration_tokens.make(registration_tokens.GUEST_CONFIRM, guest),
        registration_tokens.make(registration_tokens.CANCEL, guest),  # the guest's data page
        users["employee"].calendar_token,
        invite_token_new,
        invite_token_known,
        account_tokens.make_signup_token(email="nina@alfa.example.org", name=text("Nina Ny"),
                                         organisation_id=alfa.id, phone="", locale="nb"),
    ]
    admin_membership = users["admin"].memberships[0]
    employee_membership = users["employee"].memberships[0]
    alfa_fill = {"slug": alfa.slug, "course_id": open_course.id, "registration_id": seated.id,
                 "attachment_id": attachment.id, "category_id": category.id,
                 "item_id": location.id, "kind": "locations",
                 "membership_id": employee_membership.id, "user_id": users["employee"].id,
                 "invitation_id": invited_new.id, "chart": "attendance", "table": "all",
                 **competence}
    fills = [
        alfa_fill,
        alfa_fill | {"registration_id": waiting.id, "action": "promote"},
        alfa_fill | {"course_id": approval.id, "registration_id": pending.id,
                     "action": "approve", "item_id": category.id, "kind": "categories"},
        alfa_fill | {"course_id": approval.id, "registration_id": guest.id, "action": "reject",
                     "item_id": area.id, "kind": "service-areas"},
        alfa_fill | {"course_id": draft.id, "membership_id": admin_membership.id,
                     "action": "cancel"},
        alfa_fill | {"course_id": cancelled.id, "user_id": outsider.id, "chart": "no-shows",
                     "table": "courses"},
        alfa_fill | {"course_id": past.id, "registration_id": attended.id,
                     "action": "no-show", "competence_id": competence["region_competence_id"]},
        {"slug": beta.slug, "course_id": internal.id, "registration_id": waiting.id,
         "attachment_id": attachment.id, "category_id": category.id, "item_id": category.id,
         "kind": "categories", "membership_id": beta_admin.memberships[0].id,
         "user_id": beta_admin.id, "action": "attended", "invitation_id": invited_new.id},
    ]
    for fill in fills:
        fill["token"] = tokens[len(fill) % len(tokens)]
    fills += [alfa_fill | {"token": token} for token in tokens]
    fills += [{"slug": alfa.slug, "domain_id": waiting_domain.id, "decision": decision}
              for decision in ("approve", "reject")]
    return World(users=users, fills=[{k: str(v) for k, v in f.items()} for f in fills])


def _invite(organisation, admin, email, text):
    """An invitation and the secret of its link (only the e-mail carries it)."""
    invitation = invitations.invite(db.session, admin, organisation, email=email,
                                    name=text("Ingrid Invitert"), role=Role.ORGANISER)
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == email)
                                 .order_by(OutboxMessage.id.desc())).first()
    return invitation, link_in(message, "/invitations/").rsplit("/", 1)[1]


def _invoice_and_credit(alfa, users, past, outsider, text) -> None:
    """The billing pages' every state: a fee to invoice (the employee's and a Beta
    member's), an invoice, and a credit note that takes one of its lines back."""
    register(past, outsider, RegistrationState.ATTENDED, fee_ore=62_500, fee_kind="region",
             own_reference=text("K-77"))
    invoiced = register(past, users["organiser"], RegistrationState.ATTENDED, fee_ore=50_000,
                        fee_kind="host")
    credited = register(past, users["admin"], RegistrationState.ATTENDED, fee_ore=50_000,
                        fee_kind="host")
    year = past.starts_at.year
    groups = billing.to_invoice(db.session, users["admin"], alfa,
                                past.starts_at.replace(year=year - 1),
                                past.starts_at.replace(year=year + 1))
    [group] = [group for group in groups if group.organisation == alfa]
    group = billing.shown_group(groups, group.key, {invoiced.id, credited.id})
    billing.mark_invoiced(db.session, users["admin"], alfa, group, "F-2026-1")
    credits.waive_fee(db.session, users["admin"], alfa, credited.id, text("Sykdom"), "K-2026-1")
    db.session.commit()


def _competence_world(alfa, beta, users, past, attended, text) -> dict[str, object]:
    """Competence in every state the pages show: a region competence and one of Alfa's
    own granted by the finished course, the employee's attendance recorded (records and
    a certificate, as marking attendance makes them), a unit the organiser leads with
    the employee in it and a requirement, and an external certificate awaiting approval.
    Returns the fills of their path arguments (the region competence for the site admin's
    pages)."""
    from frikomport.competence.attendance import on_attendance_changed
    from frikomport.competence.models import (
        Certificate,
        Competence,
        CompetenceRecord,
        CourseCompetence,
        RecordSource,
        RecordStatus,
        Requirement,
    )
    from frikomport.units.models import Unit, UnitLeader

    region = Competence(name=text("HLR"), description=text("Hjerte-lungeredning"),
                        validity_months=12)
    own = Competence(organisation_id=alfa.id, name=text("Rutiner"),
                     description=text("Internt"))
    betas_own = Competence(organisation_id=beta.id, name=text("Betas"))
    unit = Unit(organisation_id=alfa.id, name=text("Hjem"))
    db.session.add_all([region, own, betas_own, unit])
    db.session.flush()
    db.session.add_all(CourseCompetence(organisation_id=alfa.id, course_id=past.id,
                                        competence_id=c.id) for c in (region, own))
    users["employee"].memberships[0].unit_id = unit.id
    db.session.add(UnitLeader(organisation_id=alfa.id, unit_id=unit.id,
                              user_id=users["organiser"].id))
    requirement = Requirement(organisation_id=alfa.id, unit_id=unit.id,
                              competence_id=region.id)
    db.session.add(requirement)
    db.session.flush()
    db.session.expire(past, ["competence_grants"])
    on_attendance_changed(attended, session=db.session)
    external = CompetenceRecord(
        user_id=users["employee"].id, competence_id=own.id, source=RecordSource.EXTERNAL,
        status=RecordStatus.PENDING, valid_from=past.starts_at.date(),
        title=text("Kurs hos Røde Kors"), issuer=text("Røde Kors"), organisation_id=alfa.id,
        filename=f"{text('bevis')}.pdf", content_type="application/pdf")
    db.session.add(external)
    db.session.commit()
    certificate = db.session.scalar(select(Certificate).where(
        Certificate.registration_id == attended.id))
    return {"competence_id": own.id, "unit_id": unit.id, "requirement_id": requirement.id,
            "record_id": external.id, "certificate_id": certificate.id,
            "code": certificate.code, "region_competence_id": region.id}


def _sso_world(alfa, users, short):
    """Single sign-on for Alfa: a provider (not reachable: no page may need it to answer)
    with an approved domain nobody in the world has an address in — so logging in by
    password and the walk's e-mail-first step never go to it — and Alfa's own domain
    waiting for the site admin, and the employee linked to it. Returns the waiting
    domain (its id fills the site admin's approve/reject routes)."""
    from frikomport.sso import crypto
    from frikomport.sso.models import ExternalIdentity, IdentityProvider, SsoDomain

    now = utcnow()
    provider = IdentityProvider(organisation=alfa, label=short("Alfa (Entra ID)"),
                                issuer="https://login.alfa.example.org", client_id="frikomport",
                                client_secret_encrypted=crypto.encrypt("seeded-secret"))
    waiting = SsoDomain(organisation=alfa, domain="alfa.example.org")
    provider.domains = [SsoDomain(organisation=alfa, domain="ansatt.alfa.example.org",
                                  approved_at=now, approved_by_id=users["site_admin"].id),
                        waiting]
    db.session.add(provider)
    db.session.flush()
    db.session.add(ExternalIdentity(organisation_id=alfa.id, provider=provider,
                                    user=users["employee"], subject="alfa-employee-0001",
                                    last_login_at=now))
    db.session.flush()
    return waiting


def _guest(course, text, short):
    from frikomport.registrations.models import Registration

    guest = Registration(organisation_id=course.organisation_id, course=course,
                         name=text("Gunnar Gjest"), email="gjest@example.net",
                         phone=short("999"), employer_name=text("Privat"),
                         comment=text("Rullestol"), state=RegistrationState.PENDING,
                         created_at=utcnow() - timedelta(hours=1))
    db.session.add(guest)
    db.session.commit()
    return guest


def log_in(client, user) -> None:
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.text


def newcomer_client(app, world: World, role: str):
    """A client of someone new in ``role`` (in the first tenant): a person who has not
    registered, posted or been refused anything yet."""
    client = app.test_client()
    if role == "anonymous":
        return client
    if role == "site_admin":
        person = UserFactory(is_site_admin=True)
    else:
        person = member(world.users["admin"].home_organisation, Role(role))
    log_in(client, person)
    return client


def role_clients(app, world: World) -> dict[str, object]:
    clients = {"anonymous": app.test_client()}
    for role in ROLES[1:]:
        clients[role] = app.test_client()
        log_in(clients[role], world.users[role])
    return clients
