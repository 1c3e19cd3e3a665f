"""Walk the app's own routes with a seeded world: the fuzz test and the XSS test use it.

Nothing here lists pages by hand. Routes come from ``app.url_map``; path arguments are
filled from consistent "fills" of real ids in the world (one fill per tenant and kind
of object); form fields and query parameters are discovered by parsing the forms and
links of every page, and by recording which parameters the views read.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit

from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

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
ARGUMENT = re.compile(r"<(?:[^<>]*:)?(\w+)>")
SKIPPED_ENDPOINTS = frozenset({"static"})


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
                     "action": "no-show"},
        {"slug": beta.slug, "course_id": internal.id, "registration_id": waiting.id,
         "attachment_id": attachment.id, "category_id": category.id, "item_id": category.id,
         "kind": "categories", "membership_id": beta_admin.memberships[0].id,
         "user_id": beta_admin.id, "action": "attended", "invitation_id": invited_new.id},
    ]
    for fill in fills:
        fill["token"] = tokens[len(fill) % len(tokens)]
    fills += [alfa_fill | {"token": token} for token in tokens]
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
    Returns the fills of their path arguments."""
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
            "code": certificate.code}


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


# Routes -----------------------------------------------------------------------------------

def routes(app) -> list[tuple[str, str]]:
    """Every (endpoint, method) the app serves, in a stable order."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.add((rule.endpoint, method))
    return sorted(found)


def rule_for(app, endpoint: str) -> Rule:
    [rule] = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    return rule


def build_path(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with each argument replaced by ``values[name]`` (percent-encoded)."""
    return ARGUMENT.sub(lambda m: quote(values[m.group(1)], safe=""), rule.rule)


def fills_for(rule: Rule, world: World) -> list[dict[str, str]]:
    """The world's fills that provide every argument of the rule (distinct paths only)."""
    seen, result = set(), []
    for fill in world.fills:
        if rule.arguments <= fill.keys():
            values = {name: fill[name] for name in rule.arguments}
            key = tuple(sorted(values.items()))
            if key not in seen:
                seen.add(key)
                result.append(values)
    assert result, f"no fill in the seeded world provides {sorted(rule.arguments)} " \
                   f"for {rule.rule}: add it to seed_world()"
    return result


def get_paths(app, world: World):
    """(endpoint, path) of every GET route, once for each distinct fill of its arguments."""
    for endpoint, method in routes(app):
        if method == "GET":
            rule = rule_for(app, endpoint)
            for values in fills_for(rule, world):
                yield endpoint, build_path(rule, values)


# Discovering parameters -------------------------------------------------------------------

@dataclass
class FormSpec:
    """What a page offers for one endpoint: the fields of a form, with their values."""

    method: str
    fields: list[tuple[str, str, str]]  # name, value shown, kind (input type)
    multipart: bool = False
    files: list[str] = field(default_factory=list)
    role: str = "anonymous"  # who was shown the form
    page: str = ""  # the path of the form's action

    @property
    def size(self) -> int:
        return len(self.fields) + len(self.files)


class _PageParser(HTMLParser):
    """Collects forms (fields with their default values) and link targets of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {"action": attrs.get("action", ""),
                          "method": attrs.get("method", "get").upper(),
                          "multipart": "multipart" in attrs.get("enctype", ""),
                          "fields": [], "files": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "button" and attrs.get("formaction"):
            self._button_form(attrs)
        elif self._form is not None and tag in ("input", "button") and attrs.get("name"):
            self._input(attrs)
        elif self._form is not None and tag == "select":
            self._select, self._select_value = attrs.get("name"), None
        elif self._select and tag == "option":
            if self._select_value is None or "selected" in attrs:
                self._select_value = attrs.get("value", "")
        elif self._form is not None and tag == "textarea":
            self._textarea, self._text = attrs.get("name"), []

    def _button_form(self, attrs):
        """A button with its own ``formaction`` posts the enclosing form elsewhere: a form
        of its own for discovery, with the fields seen so far (e.g. per-row actions)."""
        self.forms.append(dict(self._form, action=attrs["formaction"],
                               fields=list(self._form["fields"]),
                               files=list(self._form["files"])))

    def _input(self, attrs):
        kind = attrs.get("type", "text")
        if kind == "file":
            self._form["files"].append(attrs["name"])
        elif kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self._form["fields"].append((attrs["name"], attrs.get("value", "y"), kind))
        elif kind not in ("submit", "button") or attrs.get("value"):
            self._form["fields"].append((attrs["name"], attrs.get("value", ""), kind))

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self._form["fields"].append((self._select, self._select_value or "", "select"))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._form["fields"].append((self._textarea, "".join(self._text).lstrip("\n"),
                                         "textarea"))
            self._textarea = None
        elif tag == "form":
            self._form = None


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


class Discovery:
    """Per (endpoint, method): the richest form seen for it, and every query parameter
    and form field name that pages link to or that the views read."""

    def __init__(self, app):
        self.app = app
        self.adapter = app.url_map.bind("localhost")
        self.forms: dict[tuple[str, str], FormSpec] = {}
        self.names: dict[tuple[str, str], set[str]] = defaultdict(set)
        # Feeds and exports (non-HTML GET answers): path → a role that may read it.
        self.readers: dict[str, str] = {}

    def endpoint_of(self, url: str, method: str) -> str | None:
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "localhost":
            return None
        try:
            endpoint, _values = self.adapter.match(parts.path, method)
        except HTTPException:
            return None
        return endpoint

    def read_page(self, page_url: str, html: str, role: str) -> None:
        page = parse_page(html)
        for form in page.forms:
            action = form["action"] or page_url
            endpoint = self.endpoint_of(action, form["method"])
            if endpoint is None:
                continue
            key = (endpoint, form["method"])
            spec = FormSpec(form["method"], form["fields"], form["multipart"], form["files"],
                            role, urlsplit(action).path)
            # The richest form wins; among equals the first seen, which belongs to the
            # first (most complete) fill and the most privileged role.
            if key not in self.forms or spec.size > self.forms[key].size:
                self.forms[key] = spec
        for link in page.links:
            endpoint = self.endpoint_of(link, "GET")
            if endpoint:
                self.names[(endpoint, "GET")].update(
                    name for name, _v in parse_qsl(urlsplit(link).query))

    def record(self, endpoint: str, method: str, names: set[str]) -> None:
        self.names[(endpoint, method)].update(names)

    def fields(self, endpoint: str, method: str) -> tuple[FormSpec, set[str]]:
        key = (endpoint, method)
        spec = self.forms.get(key, FormSpec(method, [], page=""))
        extra = self.names[key] - {name for name, _v, _k in spec.fields} - set(spec.files)
        return spec, extra


def recording_request_class(base):
    """A request class whose args/form/files remember every key a view asks for."""
    read: set[str] = set()
    storage = base.parameter_storage_class

    class RecordingDict(storage):
        def __getitem__(self, key):
            read.add(key)
            return super().__getitem__(key)

        def getlist(self, key, *args, **kwargs):
            read.add(key)
            return super().getlist(key, *args, **kwargs)

        def __contains__(self, key):
            read.add(key)
            return super().__contains__(key)

        def get(self, key, default=None, type=None):
            read.add(key)
            return super().get(key, default=default, type=type)

    class RecordingRequest(base):
        parameter_storage_class = RecordingDict

    return RecordingRequest, read


def discover(app, world: World) -> Discovery:
    """Visit every GET route as every role, then POST an empty form to every POST route as
    the most privileged roles, collecting forms, links and the parameters views read.
    (The POSTs may change the world: callers seed a fresh one afterwards.)"""
    discovery = Discovery(app)
    original = app.request_class
    recording, read = recording_request_class(original)
    app.request_class = recording
    clients = role_clients(app, world)
    try:
        for endpoint, path in get_paths(app, world):
            for role in reversed(ROLES):  # readers: the most privileged role first
                read.clear()
                response = clients[role].get(path)
                discovery.record(endpoint, "GET", set(read))
                if "html" in response.content_type:
                    discovery.read_page(path, response.get_data(as_text=True), role)
                elif response.status_code == 200 and endpoint != "core.healthz":
                    discovery.readers.setdefault(path, role)
        for endpoint, method in routes(app):
            if method != "POST":
                continue
            path = build_path(rule_for(app, endpoint), fills_for(rule_for(app, endpoint),
                                                                  world)[0])
            for role in ("site_admin", "admin"):
                client = app.test_client()
                log_in(client, world.users[role])
                read.clear()
                client.post(path)
                discovery.record(endpoint, method, set(read))
    finally:
        app.request_class = original
    return discovery
