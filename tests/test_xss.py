"""Stored and echoed text is never rendered as markup (cross-site scripting).

A world is seeded with an XSS payload in every text the portal stores: through the
factories (:func:`tests.routewalk.seed_world`) and through the portal's own forms, so
that form filters, audit details, flash messages, the outbox and e-mails carry it too
(course form with a hostile Markdown description, vocabulary, organisation settings,
invitations, sign-up, profile, guest registration, organiser message, cancel reason).
Then:

* every GET route of ``app.url_map`` is visited as every role, with a payload also in the
  query string (pages echo it, e.g. the language switch's ``next``). An HTML answer
  may contain no element, attribute or URL that came from the payload — checked by
  parsing it, not by looking for one spelling — and the key pages must show the payload
  *escaped*, so that the test cannot pass because the payload is missing;
* feeds and exports (iCalendar, Atom, CSV, XLSX, JSON) must be well-formed and carry the
  payload as text; the Atom feed's HTML content is checked like a page;
* the search page, with a query matching the payload-carrying courses, with the Whoosh
  index built, in the database fallback (index missing while it is rebuilt) and, on
  PostgreSQL, with the PostgreSQL backend: snippets must be escaped;
* every e-mail template, and every e-mail the flows queued: plain text, a single-line
  subject, no header injection, no control characters, the payload as plain text;
* a Markdown description may not smuggle links to ``javascript:`` or raw HTML through.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask import template_rendered
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import select

from frikomport.accounts import services as account_services
from frikomport.accounts.models import User
from frikomport.courses.models import Category, Course, Location, ServiceArea
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.notifications.services import queue_email, render_email
from frikomport.notifications.transports import build_mime
from frikomport.registrations import services as registration_services
from frikomport.registrations.models import Registration
from frikomport.search import indexer, service
from frikomport.tenancy.models import Organisation, Role
from frikomport.timeutil import to_local
from tests.conftest import _wipe, make_app
from tests.factories import DEFAULT_PASSWORD, CourseFactory, in_days, register
from tests.helpers import link_in
from tests.routewalk import (
    PDF,
    ROLES,
    build_path,
    fills_for,
    log_in,
    role_clients,
    routes,
    rule_for,
    seed_world,
)

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ("<img src=x onerror=alert('XSS1')><script>alert('XSS2')</script>"
           "\"'><svg onload=alert('XSS3')>")
# Phone numbers hold 40 characters: a shorter payload that still breaks out of attributes.
SHORT_PAYLOAD = "\"'><svg onload=alert('XSS3')>"
URL_PAYLOAD = "https://example.org/\"'><svg onload=alert('XSS3')>"
# How the payload looks when it is (correctly) escaped in HTML: by Jinja, and its opening
# tag whoever escaped it (Markdown, search highlighting, a truncated echo).
ESCAPED = "&lt;img src=x onerror=alert(&#39;XSS1&#39;)&gt;&lt;script&gt;"
ESCAPED_TAG = "&lt;img src=x onerror"
ESCAPED_SHORT = "&#34;&#39;&gt;&lt;svg onload"
# Sent, unencoded, in the query string of every request of the walk (no spaces: a request
# line has none). Spelt differently from the stored payload, so that its escaped echo does
# not count as the stored text being shown.
QUERY_PAYLOAD = ("<svg/onload=alert('QXSS1')><script>alert('QXSS2')</script>"
                 "\"'><svg/onload=alert('QXSS3')>")
RAW_SPELLINGS = ("<img src=x", "<script>alert(", "<svg onload", "<svg/onload")
MARKDOWN = "\n\n".join([
    "## Innhold",
    "**fet** og *kursiv* og [trygg lenke](https://example.org/kurs)",
    "[lenke1](javascript:alert('XSS4'))",
    "[lenke2](JaVaScRiPt:alert('XSS4'))",
    "[lenke3](data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTNCcpPC9zY3JpcHQ+)",
    "[lenke4](vbscript:msgbox('XSS4'))",
    "![bilde](javascript:alert('XSS4'))",
    "<script>alert('XSS5')</script>",
    "<a href=\"javascript:alert('XSS6')\" onclick=\"alert('XSS6')\">rå lenke</a>",
    "<img src=x onerror=alert('XSS7')>",
    "[lenke5](https://example.org/\"onmouseover=\"alert('XSS8'))",
    "<details open ontoggle=alert('XSS9')>x</details>",
    "[lenke6]: javascript:alert('XSS4')\n\n[referanse][lenke6]",
    PAYLOAD,
])
SEARCH_QUERIES = ("kurset", "XSS1", PAYLOAD)
NO_MATCH_QUERY = f"zzqxjv {PAYLOAD}"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


# Checking HTML ----------------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "background",
                  "data", "xlink:href", "cite", "longdesc", "manifest", "ping"}
SAFE_SCHEMES = {"http", "https", "mailto"}
# Elements the portal's own templates never use: any of them came from stored text.
FOREIGN_ELEMENTS = {"svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet",
                    "base", "style", "template", "noscript", "xmp", "plaintext", "portal"}
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_.:-]*")


class MarkupCheck(HTMLParser):
    """Lists every element, attribute or URL in a page that no template of the portal
    writes: what is left when stored or echoed text became markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        shown = self.get_starttag_text()[:120]
        if tag in FOREIGN_ELEMENTS:
            self.problems.append(f"<{tag}> element: {shown}")
        if tag == "script" and not _own_path(values.get("src"), "/static/"):
            self.problems.append(f"inline or foreign script: {shown}")
        if tag == "img" and not _own_path(values.get("src"), "/"):
            self.problems.append(f"image from elsewhere: {shown}")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.problems.append(f"meta refresh: {shown}")
        for name, value in attrs:
            if name.startswith("on") or not ATTRIBUTE_NAME.fullmatch(name):
                self.problems.append(f"attribute {name!r}: {shown}")
            elif name in URL_ATTRIBUTES and value and not _safe_url(value):
                self.problems.append(f"{name}={value!r}: {shown}")
            elif name == "style" and value and re.search(r"expression|url\(|javascript",
                                                         value, re.I):
                self.problems.append(f"style={value!r}: {shown}")

    handle_startendtag = handle_starttag


def _own_path(value: str | None, prefix: str) -> bool:
    return bool(value) and value.startswith(prefix) and not value.startswith(("//", "/\\"))


def _safe_url(value: str) -> bool:
    compact = re.sub(r"[\x00-\x20]", "", value).lower()
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", compact)
    return scheme is None or scheme.group(1) in SAFE_SCHEMES


def markup_problems(html: str) -> list[str]:
    checker = MarkupCheck()
    checker.feed(html)
    checker.close()
    lowered = html.lower()
    return checker.problems + [f"raw {raw!r} in the page" for raw in RAW_SPELLINGS
                               if raw.lower() in lowered]


def shows_payload_escaped(html: str) -> bool:
    return ESCAPED_TAG in html or ESCAPED_SHORT in html


# Checking feeds, exports and e-mails -------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
ATOM_ELEMENTS = {"feed", "title", "id", "link", "updated", "generator", "entry", "published",
                 "author", "name", "category", "summary", "content"}


def document_problems(content_type: str, body: bytes) -> tuple[list[str], bool]:
    """(problems, whether the payload is in it as text) for a non-HTML answer."""
    if "calendar" in content_type:
        return _calendar(body)
    if "spreadsheetml" in content_type:
        workbook = load_workbook(io.BytesIO(body))
        cells = [str(cell.value) for sheet in workbook for row in sheet.iter_rows()
                 for cell in row if cell.value is not None]
        return [], any(PAYLOAD in cell for cell in cells)
    if "atom" in content_type or "xml" in content_type:
        return _atom(body)
    if "csv" in content_type:
        text = body.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        problems = ["control character in the CSV"] if CONTROL.search(
            text.replace("\r\n", "").replace("\n", "")) else []
        return problems, any(PAYLOAD in cell for row in rows for cell in row)
    if "json" in content_type:
        data = json.loads(body)
        return [], PAYLOAD in json.dumps(data, ensure_ascii=False)
    return [], False


def _calendar(body: bytes) -> tuple[list[str], bool]:
    problems = []
    if re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", body):
        problems.append("control character in the calendar")
    calendar = Calendar.from_ical(body)
    texts = [str(component.get(name, "")) for component in calendar.walk("VEVENT")
             for name in ("summary", "description", "location")]
    return problems, any(PAYLOAD in text or SHORT_PAYLOAD in text for text in texts)


def _atom(body: bytes) -> tuple[list[str], bool]:
    problems = [f"raw {raw!r} in the feed" for raw in RAW_SPELLINGS
                if raw.encode() in body]
    root = ElementTree.fromstring(body)
    found = False
    for element in root.iter():
        name = element.tag.removeprefix(ATOM)
        if not element.tag.startswith(ATOM) or name not in ATOM_ELEMENTS:
            problems.append(f"element {element.tag} in the feed")
        texts = [element.text or "", *element.attrib.values()]
        found = found or any(PAYLOAD in text for text in texts)
        if name == "content" and element.get("type") == "html":
            # A feed reader renders this as HTML: it must be as harmless as a page.
            problems += [f"feed content: {p}" for p in markup_problems(element.text or "")]
    return problems, found


def email_problems(message: OutboxMessage, sender: str) -> list[str]:
    """An e-mail is plain text: one-line subject, no header injection, no control
    characters (a calendar attachment must stay well-formed too)."""
    problems = []
    if "\n" in message.subject or "\r" in message.subject or CONTROL.search(message.subject):
        problems.append(f"subject is not one plain line: {message.subject!r}")
    if CONTROL.search(message.body_text.replace("\n", "").replace("\t", "")):
        problems.append("control character in the body")
    mime = build_mime(message, sender)
    parsed = email.message_from_bytes(bytes(mime), policy=email.policy.default)
    if parsed["Subject"] != message.subject:
        problems.append(f"subject header changed in transit: {parsed['Subject']!r}")
    if parsed["Bcc"] is not None or parsed["Cc"] is not None:
        problems.append("a header was injected")
    for part in parsed.walk():
        if part.get_content_type() == "text/html":
            problems.append("an HTML part (would need escaping)")
        elif part.get_content_type() == "text/calendar":
            content = part.get_content()
            problems += _calendar(content.encode() if isinstance(content, str) else content)[0]
    if any(entity in message.subject + message.body_text for entity in ("&lt;", "&#39;")):
        problems.append("HTML-escaped text in a plain-text e-mail (shown as &lt; …)")
    return problems


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
        "price_nok": "0", "capacity": "1", "reserved_seats": "0", "visibility": "public",
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
    confirmation = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == "gro@example.net")).one()
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

    # An e-mail that could not be delivered: the site admin's outbox page shows it.
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


@pytest.fixture(scope="module")
def xss_setup(database_url, tmp_path_factory):
    """One app per backend with the payload everywhere, and the Whoosh index built."""
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


# Pages ---------------------------------------------------------------------------------------

# Every page that shows stored text to some role must show it escaped (the test is not
# passing because the payload is missing): the endpoints where some role sees it.
MUST_SHOW_ESCAPED = {
    "accounts.forgot_password", "accounts.profile", "accounts.reset_password",
    "accounts.signup", "admin.new_organisation", "admin.organisations", "admin.outbox",
    "admin.users", "core.index", "course_admin.cancel_course", "course_admin.course_list",
    "course_admin.edit_course", "course_admin.new_course", "course_admin.vocabulary_edit",
    "course_admin.vocabulary_list", "courses.detail", "courses.index", "courses.month_calendar",
    "invitations.respond", "participants.email_all", "participants.participant_list",
    "participants.sign_in_sheet", "registrations.cancel_by_link",
    "registrations.my_registrations", "registrations.register_guest", "search.results",
    "tenancy.audit", "tenancy.dashboard", "tenancy.members", "tenancy.organisation",
    "tenancy.settings",
}
MUST_CARRY_PAYLOAD = {
    "courses.atom_feed", "courses.course_ical", "organisation_feeds.organisation_ical",
    "organisation_feeds.category_ical", "registrations.personal_calendar",
    "participants.export_csv", "participants.export_xlsx",
}


def test_no_page_feed_or_export_renders_the_payload_as_markup(xss_setup):
    """Every GET route × every fill of its arguments × every role."""
    setup = xss_setup
    app = setup.app
    failures, escaped, carried, checked = [], set(), set(), 0
    with app.app_context():
        clients = setup.clients
        for endpoint, method in routes(app):
            if method != "GET":
                continue
            rule = rule_for(app, endpoint)
            for values in fills_for(rule, setup.world):
                path = build_path(rule, values)
                for role in ROLES:
                    # A payload in the query string too, unencoded as a hand-made request
                    # would send it: every page echoes its address (language switch).
                    response = clients[role].get(
                        path, query_string="xss=" + QUERY_PAYLOAD)
                    checked += 1
                    where = f"{role} GET {path} ({response.status_code})"
                    body = response.get_data()
                    if "html" in response.content_type:
                        html = body.decode()
                        failures += [f"{where}: {p}" for p in markup_problems(html)]
                        if response.status_code == 200 and shows_payload_escaped(html):
                            escaped.add(endpoint)
                    elif response.status_code == 200:
                        try:
                            problems, found = document_problems(response.content_type, body)
                        except Exception as error:  # reported with the route, not swallowed
                            problems, found = [f"{type(error).__name__}: {error}"], False
                        failures += [f"{where}: {p}" for p in problems]
                        if found:
                            carried.add(endpoint)
                    header = response.headers.get("Content-Disposition", "")
                    if "\n" in header or "\r" in header:
                        failures.append(f"{where}: Content-Disposition {header!r}")
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])
    assert checked > 500, checked
    assert MUST_SHOW_ESCAPED - escaped == set(), "the payload is missing from these pages"
    assert MUST_CARRY_PAYLOAD - carried == set(), "the payload is missing from these feeds"


FLASH = re.compile(r'<div class="flash-messages"[^>]*>((?:\s*<div class="ds-alert"[^>]*>\s*'
                   r'<p class="ds-paragraph">.*?</p>\s*</div>)+)', re.S)


def test_pages_answered_to_forms_escape_what_was_typed(xss_setup):
    """Flash messages that repeat input, the query string echoed back, the pages the
    forms answer with."""
    assert len(xss_setup.pages) >= 8
    for label, expect, html in xss_setup.pages:
        assert not markup_problems(html), (label, markup_problems(html))
        assert shows_payload_escaped(html) or not expect, label
        if expect == "flash":
            flash = FLASH.search(html)
            assert flash and ESCAPED_TAG in flash[1], (label, "flash message")


def test_echoed_query_and_path_are_escaped(xss_setup):
    """The admin's user search repeats the query; error pages repeat the path."""
    with xss_setup.app.app_context():
        clients = xss_setup.clients
        users = clients["site_admin"].get("/admin/users", query_string={"q": PAYLOAD})
        missing = [clients[role].get(path) for role in ("anonymous", "admin")
                   for path in (f"/o/{QUERY_PAYLOAD}/", f"/courses/{QUERY_PAYLOAD}",
                                f"/nowhere/{QUERY_PAYLOAD}")]
    assert users.status_code == 200
    assert not markup_problems(users.text) and ESCAPED in users.text
    for response in missing:
        assert response.status_code == 404
        assert not markup_problems(response.text), markup_problems(response.text)
        assert "&lt;svg/onload=alert(&#39;QXSS1&#39;)&gt;" in response.text


# Search ----------------------------------------------------------------------------------

@pytest.fixture(params=["whoosh", "fallback", "postgresql"])
def search_portal(request, xss_setup, database_url, tmp_path):
    """(app, mode): the index built, the index missing while rebuilt (database
    fallback), or the PostgreSQL backend (PostgreSQL only)."""
    mode = request.param
    if mode == "whoosh":
        yield xss_setup.app, mode
        return
    if mode == "postgresql" and not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL search backend needs PostgreSQL")
    app = make_app(database_url, tmp_path,
                   SEARCH_BACKEND="postgresql" if mode == "postgresql" else "whoosh")
    with app.app_context():
        if mode == "fallback":
            # No index in this app's folder, and a rebuild "running": every search uses
            # the database fallback (no background thread races the test).
            app.extensions["search_rebuilding"] = True
        else:
            indexer.rebuild(db.session, service.backend_for(app))
            db.session.commit()
        db.session.remove()
    yield app, mode
    with app.app_context():
        db.engine.dispose()


HITS = re.compile(r'<ol class="course-list search-hits"[^>]*>(.*?)</ol>', re.S)
SNIPPET = re.compile(r'<p class="ds-paragraph" data-size="sm">(.*?)</p>', re.S)


def test_search_snippets_escape_the_payload(search_portal, xss_setup):
    app, mode = search_portal
    contexts = []

    def remember(_sender, template, context, **_extra):
        if template.name == "search/results.html":
            contexts.append(context)

    with app.app_context(), template_rendered.connected_to(remember, app):
        clients = role_clients(app, xss_setup.world)
        answers = [(role, query, clients[role].get("/search/", query_string={"q": query}))
                   for role in ROLES for query in (*SEARCH_QUERIES, NO_MATCH_QUERY)]
        suggestions = [clients[role].get("/search/suggest", query_string={"q": "Mark"})
                       for role in ROLES]

    assert contexts and all(c["degraded"] == (mode == "fallback") for c in contexts), mode
    snippets_with_payload = marked = 0
    for role, query, response in answers:
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (role, query)
        assert not markup_problems(html), (mode, role, query, markup_problems(html))
        assert ESCAPED in html, (mode, role, query)  # at least the echoed query
        hits = HITS.search(html)
        if query == NO_MATCH_QUERY:
            assert hits is None, (mode, role)
            continue
        assert hits, (mode, role, query, "no hits")
        snippets = SNIPPET.findall(hits[1])
        snippets_with_payload += sum(ESCAPED_TAG in s for s in snippets)
        marked += sum("<mark>" in s for s in snippets)
    assert snippets_with_payload >= len(ROLES), mode  # the snippets carry it, escaped
    if mode != "fallback":
        assert marked, mode  # highlights are shown (the snippet's own markup survives)
    for response in suggestions:  # JSON, shown with textContent by typeahead.js
        assert response.content_type == "application/json"
        titles = [s["title"] for s in response.json]
        assert all(PAYLOAD in t for t in titles), (mode, titles)
        assert titles or mode == "fallback", mode  # no suggestions without an index


# Markdown --------------------------------------------------------------------------------

DESCRIPTION = re.compile(r'<div class="course__description">(.*?)</div>', re.S)


def test_markdown_description_is_sanitised(xss_setup):
    with xss_setup.app.app_context():
        response = xss_setup.clients["anonymous"].get(
            f"/courses/{xss_setup.ids['markdown_course']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not markup_problems(html), markup_problems(html)
    description = DESCRIPTION.search(html)[1]
    # Markdown is rendered (not escaped wholesale) …
    assert "<strong>fet</strong>" in description and "<em>kursiv</em>" in description
    assert '<a href="https://example.org/kurs"' in description
    assert "<h2>Innhold</h2>" in description
    # … raw HTML is shown as text, and no link but http(s) survives (the hostile links
    # are there as text, so they were not simply lost).
    assert "&lt;script&gt;alert(" in description and ESCAPED_TAG in description
    assert re.findall(r'<a href="([^":]*):', description) == ["https", "https"]
    for name in ("lenke1", "lenke2", "lenke3", "lenke4", "lenke5", "bilde"):
        assert name in description
    assert not re.search(r"<(?!/?(?:p|br|strong|em|ul|ol|li|a|h2|h3|h4|blockquote|code|pre|"
                         r"table|thead|tbody|tr|th|td|hr)\b)[a-z]", description)


def test_sanitiser_holds_even_if_markdown_passed_html_through(monkeypatch):
    """nh3 is the last line: with raw HTML switched on in the Markdown renderer, the
    description still comes out without script, handlers or dangerous links."""
    from markdown_it import MarkdownIt

    from frikomport.courses import markdown

    monkeypatch.setattr(markdown, "_renderer", MarkdownIt("commonmark", {"html": True}))
    html = str(markdown.render_markdown(MARKDOWN + "\n\n<p><a href='javascript:alert(1)'>x</a>"
                                        "<iframe src=//evil.example></iframe></p>"))
    assert not markup_problems(html), markup_problems(html)
    assert "<strong>fet</strong>" in html and "alert('XSS5')" not in html


# E-mails ---------------------------------------------------------------------------------

def _email_templates() -> list[str]:
    return sorted(p.stem for p in (ROOT / "templates" / "email").glob("*.txt")
                  if not p.name.startswith("_"))


def test_every_email_the_flows_sent_is_plain_text(xss_setup):
    with xss_setup.app.app_context():
        sender = xss_setup.app.config["MAIL_FROM"]
        messages = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        failures = [(m.to_address, m.subject, p) for m in messages
                    for p in email_problems(m, sender)]
        carrying = [m for m in messages if PAYLOAD in m.subject + m.body_text]
        subjects = [m.subject for m in messages]
    assert not failures, failures
    # The flows sent every kind of e-mail there is, each with the payload in it.
    sent = {name.removeprefix("email/").removesuffix(".txt")
            for name in xss_setup.templates if name.startswith("email/")}
    assert set(_email_templates()) <= sent, set(_email_templates()) - sent
    assert len(carrying) == len(messages) >= len(_email_templates()), subjects
    message = next(m for m in messages if "Viktig" in m.subject)
    assert PAYLOAD in message.subject and message.body_text.count(PAYLOAD) >= 2


@pytest.mark.parametrize("template", _email_templates())
def test_every_email_template_renders_plain_text(xss_setup, template):
    """Each template, rendered directly with objects whose every text is hostile (line
    breaks, control characters and the payload)."""

    def text(value):
        return f"{value}\r\nBcc: evil@example.org\x0b\x1b[31m {PAYLOAD}"

    organisation = SimpleNamespace(name=text("Alfa kommune"), slug="alfa")
    location = SimpleNamespace(name=text("Rådhuset"), room=text("Sal A"),
                               address=text("Gata 1"))
    sessions = [SimpleNamespace(starts_at=start, ends_at=end) for start, end in
                (in_days(3), in_days(4))]
    course = SimpleNamespace(id=1, title=text("Førstehjelp"), organisation=organisation,
                             sessions=sessions, location=location)
    registration = SimpleNamespace(name=text("Gunnar Gjest"), course=course)
    user = SimpleNamespace(name=text("Eva Employee"))
    link = "https://kurs.example.org/x/token"

    class Bag:
        def add(self, item):
            self.item = item

    bag = Bag()
    with xss_setup.app.app_context(), xss_setup.app.test_request_context():
        subject, body = render_email(
            template, "nb", user=user, link=link, registration=registration, course=course,
            course_url=link, cancel_url=link, promoted=True, position=2, by_organiser=True,
            reason=text("Syk"), subject=text("Emne"), body=text("Linje 1\n\nLinje 2"),
            organisation=organisation, name=text("Ivar"), inviter=text("Anne Admin"),
            role=Role.ORGANISER, days=7, hours=2, login=link, reset=link)
        message = queue_email(bag, "someone@example.org", subject, body)
        message.id, message.created_at = 1, utcnow()
        problems = email_problems(message, xss_setup.app.config["MAIL_FROM"])
    assert not problems, (template, problems, message.subject)
    assert PAYLOAD in message.subject + message.body_text, template


# The rule behind it ------------------------------------------------------------------------

MARKUP_MADE = {"frikomport/courses/markdown.py", "frikomport/search/whoosh_backend.py",
               "frikomport/search/postgres_backend.py"}


def test_templates_never_switch_escaping_off():
    """No template marks text safe; Markup is made only where sanitised or escaped markup
    is produced (the Markdown renderer, the search backends' highlighted snippets)."""
    switches = re.compile(r"\|\s*safe\b|autoescape\s+false|\bMarkup\s*\(|\|\s*unescape\b")
    found = [f"{path.relative_to(ROOT)}: {match[0]}"
             for path in (ROOT / "templates").rglob("*") if path.is_file()
             for match in [switches.search(path.read_text(encoding="utf-8"))] if match]
    assert not found, found
    makers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "frikomport").rglob("*.py")
                    if re.search(r"\bMarkup\s*\(", path.read_text(encoding="utf-8")))
    assert set(makers) <= MARKUP_MADE, makers
