"""The audit log in words, for the people who read it.

Each event becomes a sentence – who did what to what ("Ola Organiser created the course
«Førstehjelp»") – and its details become readable lines: changed fields as
"Title: «A» → «B»" and other facts as "Reason: …", in the reader's language.

Services record details as they like (``audit.services.record(..., **details)``); this
module knows the action codes they use. A detail named in a sentence is said there; the
rest are listed below it. Old → new values are read from a ``changes`` detail shaped
``{"field": [old, new]}``; a ``fields`` detail lists changed fields without their values.
A code without a sentence here still reads as a sentence (``tests/test_audit_sentences.py``
makes sure every code in the code base has its own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.audit.models import AuditEvent
from frikomport.courses.models import Category, Course, Location, ServiceArea
from frikomport.templating import written as marked_written
from frikomport.tenancy.forms import ROLE_LABELS
from frikomport.tenancy.models import Organisation, Role


@dataclass(frozen=True)
class Sentence:
    """What an action says: ``text`` with ``%(actor)s``, ``%(object)s`` and the named
    details (``uses``), which are then not listed again below the sentence. An action
    whose details are ``old`` and ``new`` names the field they belong to (``changes``)."""

    text: str
    uses: tuple[str, ...] = ()
    changes: str | None = None


SENTENCES: dict[str, Sentence] = {
    "organisation.created": Sentence(_l("%(actor)s created the organisation %(object)s")),
    "organisation.updated": Sentence(_l("%(actor)s changed the settings of %(object)s")),
    "organisation.logo_changed": Sentence(_l("%(actor)s uploaded a new logo for %(object)s")),
    "billing.invoiced": Sentence(
        _l("%(actor)s marked %(lines)s lines to %(buyer)s as invoiced on invoice %(number)s"),
        ("lines", "buyer", "number")),
    "billing.waived": Sentence(
        _l("%(actor)s waived the fee of %(amount)s for %(participant)s on the course "
           "«%(course)s»"), ("amount", "participant", "course")),
    "billing.credited": Sentence(
        _l("%(actor)s waived the fee of %(amount)s for %(participant)s on the course "
           "«%(course)s» and credited it from invoice %(invoice)s on credit note "
           "%(credit_note)s"), ("amount", "participant", "course", "invoice", "credit_note")),
    "membership.added": Sentence(_l("%(actor)s accepted an invitation and joined as %(role)s"),
                                 ("role", "via", "user")),
    "membership.role_changed": Sentence(_l("%(actor)s changed the role of %(user)s"),
                                        ("user",), changes="role"),
    "membership.removed": Sentence(_l("%(actor)s removed %(user)s (%(role)s) from the members"),
                                   ("user", "role")),
    "unit.created": Sentence(_l("%(actor)s created the unit «%(name)s»"), ("name",)),
    "unit.renamed": Sentence(_l("%(actor)s renamed the unit to «%(name)s»"), ("name",),
                             changes="name"),
    "unit.deleted": Sentence(_l("%(actor)s deleted the unit «%(name)s»"), ("name",)),
    "unit.member_placed": Sentence(_l("%(actor)s placed %(user)s in the unit «%(name)s»"),
                                   ("user", "name")),
    "unit.member_removed": Sentence(
        _l("%(actor)s took %(user)s out of the unit «%(name)s»"), ("user", "name")),
    "unit.leader_added": Sentence(_l("%(actor)s made %(user)s a leader of the unit «%(name)s»"),
                                  ("user", "name")),
    "unit.leader_removed": Sentence(
        _l("%(actor)s removed %(user)s as a leader of the unit «%(name)s»"), ("user", "name")),
    "unit.requirement_added": Sentence(
        _l("%(actor)s added the requirement «%(competence)s» to the unit «%(name)s»"),
        ("competence", "name")),
    "unit.requirement_added_for_title": Sentence(
        _l("%(actor)s added the requirement «%(competence)s» for the job title "
           "«%(job_title)s» to the unit «%(name)s»"), ("competence", "job_title", "name")),
    "unit.requirement_removed": Sentence(
        _l("%(actor)s removed the requirement «%(competence)s» from the unit «%(name)s»"),
        ("competence", "name")),
    "unit.requirement_removed_for_title": Sentence(
        _l("%(actor)s removed the requirement «%(competence)s» for the job title "
           "«%(job_title)s» from the unit «%(name)s»"), ("competence", "job_title", "name")),
    "unit.matrix_downloaded": Sentence(
        _l("%(actor)s downloaded the competence matrix of the unit «%(name)s»"), ("name",)),
    "invitation.sent": Sentence(_l("%(actor)s invited %(email)s as %(role)s"),
                                ("email", "role")),
    "invitation.withdrawn": Sentence(_l("%(actor)s withdrew the invitation to %(email)s"),
                                     ("email",)),
    "course.created": Sentence(_l("%(actor)s created the course «%(object)s»"), ("title",)),
    "course.updated": Sentence(_l("%(actor)s changed the course «%(object)s»"), ("title",)),
    "course.published": Sentence(_l("%(actor)s published the course «%(object)s»")),
    "course.cancelled": Sentence(_l("%(actor)s cancelled the course «%(object)s»")),
    "course.invited_needing": Sentence(
        _l("%(actor)s invited %(people)s people who need what the course «%(object)s» "
           "grants within %(months)s months"), ("title", "people", "months")),
    "course.deleted": Sentence(_l("%(actor)s deleted the draft «%(object)s»"), ("title",)),
    "course.attachment_added": Sentence(
        _l("%(actor)s attached «%(filename)s» to the course «%(object)s»"), ("filename",)),
    "course.attachment_deleted": Sentence(
        _l("%(actor)s removed the attachment «%(filename)s» from the course «%(object)s»"),
        ("filename",)),
    "participants.downloaded": Sentence(
        _l("%(actor)s downloaded the participants of the course «%(object)s» as %(format)s"),
        ("course", "format")),
    "certificate.downloaded": Sentence(
        _l("%(actor)s downloaded the course certificate of %(participant)s for the course "
           "«%(course)s»"), ("participant", "course")),
    "user.enabled": Sentence(_l("%(actor)s enabled the account of %(email)s"), ("email",)),
    "user.disabled": Sentence(_l("%(actor)s disabled the account of %(email)s"), ("email",)),
    "user.deleted": Sentence(_l("%(actor)s deleted a user account")),
    "competence_record.approved": Sentence(
        _l("%(actor)s approved the certificate of %(user)s for «%(competence)s»"),
        ("user", "competence")),
    "competence_record.rejected": Sentence(
        _l("%(actor)s rejected the certificate of %(user)s for «%(competence)s»"),
        ("user", "competence")),
    "category.added": Sentence(_l("%(actor)s added the category «%(name)s»"), ("name",)),
    "category.changed": Sentence(_l("%(actor)s changed the category «%(name)s»"), ("name",)),
    "category.deleted": Sentence(_l("%(actor)s deleted the category «%(name)s»"), ("name",)),
    "service_area.added": Sentence(_l("%(actor)s added the service area «%(name)s»"),
                                   ("name",)),
    "service_area.changed": Sentence(_l("%(actor)s changed the service area «%(name)s»"),
                                     ("name",)),
    "service_area.deleted": Sentence(_l("%(actor)s deleted the service area «%(name)s»"),
                                     ("name",)),
    "location.added": Sentence(_l("%(actor)s added the location «%(name)s»"), ("name",)),
    "location.changed": Sentence(_l("%(actor)s changed the location «%(name)s»"), ("name",)),
    "location.deleted": Sentence(_l("%(actor)s deleted the location «%(name)s»"), ("name",)),
    "competence.created": Sentence(_l("%(actor)s added the competence «%(name)s»"), ("name",)),
    "competence.updated": Sentence(_l("%(actor)s changed the competence «%(name)s»"),
                                   ("name",)),
    "competence.deleted": Sentence(_l("%(actor)s deleted the competence «%(name)s»"),
                                   ("name",)),
    "course.competences_changed": Sentence(
        _l("%(actor)s changed which competences the course «%(object)s» gives"), ("title",)),
    "sso.provider_created": Sentence(
        _l("%(actor)s set up single sign-on through %(issuer)s"), ("issuer",)),
    "sso.provider_updated": Sentence(_l("%(actor)s changed the single sign-on settings")),
    "sso.provider_deleted": Sentence(
        _l("%(actor)s removed single sign-on through %(issuer)s"), ("issuer",)),
    "sso.domain_approved": Sentence(
        _l("%(actor)s approved the domain %(domain)s for single sign-on"), ("domain",)),
    "sso.domain_rejected": Sentence(
        _l("%(actor)s rejected the domain %(domain)s for single sign-on"), ("domain",)),
    "sso.login": Sentence(_l("%(actor)s logged in through %(provider)s"), ("provider",)),
    "sso.account_created": Sentence(
        _l("%(actor)s got an account by logging in through %(provider)s"), ("provider",)),
    "sso.account_linked": Sentence(
        _l("%(actor)s connected their account to %(provider)s"), ("provider",)),
}
UNKNOWN_ACTION = Sentence(_l("%(actor)s made a change to %(object)s"))
UNKNOWN_ACTION_WITHOUT_OBJECT = Sentence(_l("%(actor)s made a change"))

# Field and detail names as people call them (mostly the labels of the forms they edit).
FIELD_LABELS = {
    "title": _l("Title"), "name": _l("Name"), "summary": _l("Summary"),
    "description": _l("Description"), "region": _l("Region"),
    "contact_name": _l("Contact person"), "contact_email": _l("Contact e-mail"),
    "contact_phone": _l("Contact phone"), "website": _l("Website"),
    "capacity": _l("Number of seats"), "target_group": _l("Target group"),
    "instructor": _l("Instructor"),
    "fee_host_ore": _l("Fee for own employees"),
    "fee_region_ore": _l("Fee for other organisations' employees"),
    "fee_guest_ore": _l("Fee for guests"),
    "free_cancellation_until": _l("Free cancellation until"),
    "charge_no_shows": _l("Charge no-shows"),
    "visibility": _l("Who can see the course"), "category_id": _l("Category"),
    "service_area_id": _l("Service area"), "location_id": _l("Location"),
    "registration_opens_at": _l("Registration opens"),
    "registration_closes_at": _l("Registration closes"),
    "reserved_until": _l("Reserved until"), "address": _l("Address"), "room": _l("Room"),
    "map_url": _l("Map link"), "reason": _l("Reason"), "role": _l("Role"),
    "email": _l("E-mail"), "user": _l("E-mail"), "filename": _l("File"),
    "course": _l("Course"), "slug": _l("Short name"), "rows": _l("Number of people"),
    "format": _l("Format"), "fields": _l("Changed fields"),
    "cancelled_registrations": _l("Registrations cancelled"),
    "sessions": _l("Sessions"), "reserved_seats": _l("Reserved seats"),
    "allow_guests": _l("Guests can register"), "requires_approval": _l("Needs approval"),
    "ask_for_comment": _l("Asks for a comment"), "language": _l("Written form"),
    "content_language": _l("Language of the course"),
    "cancellation_deadline": _l("Cancellation deadline"),
    "org_number": _l("Organisation number"), "invoice_email": _l("Invoice e-mail"),
    "receives_ehf": _l("Receives invoices as EHF"), "buyer_reference": _l("Buyer reference"),
    "invoice_street": _l("Invoice address"), "invoice_postcode": _l("Postcode"),
    "invoice_city": _l("Post town"), "vat_registered": _l("Registered for VAT"),
    "number": _l("Invoice number"), "buyer": _l("Buyer"), "lines": _l("Lines"),
    "invoice": _l("Invoice"), "credit_note": _l("Credit note"),
    "participant": _l("Participant"), "amount": _l("Amount"),
    "validity_months": _l("Valid for (months)"), "competences": _l("Competences"),
    "issuer": _l("Issuer"), "client_id": _l("Client id"), "scopes": _l("Scopes"),
    "email_claim": _l("Claim with the e-mail address"), "enabled": _l("Switched on"),
    "allow_local_passwords": _l("Passwords allowed"), "label": _l("Name on the login button"),
    "secret_changed": _l("New client secret"), "domains_added": _l("Domains added"),
    "domains_removed": _l("Domains removed"), "provider": _l("Login service"),
    "domain": _l("Domain"), "proof": _l("Proof"), "subject": _l("Identifier (sub)"),
    "links_removed": _l("Connected people unlinked"),
    "approvals_withdrawn": _l("Domains that must be approved again"),
    "authorization_origin": _l("Address of the login page"),
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel", "sign-in sheet": _l("sign-in sheet")}
# Details that hold what organisers wrote (course content): marked as Bokmål on pages
# in another language, so screen readers pronounce them right.
WRITTEN_CONTENT = frozenset({"title", "course", "name", "reason", "filename"})
# Objects whose names organisers wrote (the organisation's name is a proper noun).
WRITTEN_OBJECTS = frozenset({"course", "category", "service_area", "location"})
# Where the current name of an event's object is found, when the details do not say it.
OBJECT_NAMES = {
    "course": Course.title, "organisation": Organisation.name, "category": Category.name,
    "service_area": ServiceArea.name, "location": Location.name,
}
# Details that name the object as it was then (before its current name, if any).
RECORDED_NAMES = ("title", "course", "name", "email", "user")


@dataclass(frozen=True)
class Change:
    """One changed field; ``old`` is None when only the new value is known."""

    label: str
    old: str | None
    new: str

    def __str__(self) -> str:
        if self.old is None:
            return _("%(field)s: «%(new)s»", field=self.label, new=self.new)
        return _("%(field)s: «%(old)s» → «%(new)s»", field=self.label, old=self.old,
                 new=self.new)


@dataclass(frozen=True)
class Description:
    """An event in words: the sentence, the changed fields and the other facts."""

    sentence: Markup
    changes: list[Change] = field(default_factory=list)
    facts: list[tuple[str, str | Markup]] = field(default_factory=list)


def field_label(name: str) -> str:
    """A readable name of a field; an unknown one is spelled out ("price_nok" → "Price nok")."""
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name.replace("_", " ").capitalize()


def format_value(name: str, value) -> str:
    """A detail's value as people say it: role and format codes by name, lists joined."""
    if name == "fields" and isinstance(value, list):
        return ", ".join(field_label(str(item)) for item in value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if name == "role" and value in Role._value2member_map_:
        return str(ROLE_LABELS[Role(value)])
    if name == "format" and value in FORMAT_LABELS:
        return str(FORMAT_LABELS[value])
    return "–" if value is None or value == "" else str(value)


def object_names(session: Session, events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """Current names of the events' objects, one query per kind of object."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.object_type in OBJECT_NAMES and event.object_id is not None:
            wanted[event.object_type].add(event.object_id)
    names = {}
    for object_type, ids in wanted.items():
        column = OBJECT_NAMES[object_type]
        id_column = column.class_.id
        for object_id, name in session.execute(select(id_column, column).where(
                id_column.in_(ids))):
            names[(object_type, object_id)] = name
    return names


def describe(event: AuditEvent, names: dict[tuple[str, int], str]) -> Description:
    """The event as a sentence with its changes and remaining facts."""
    details = dict(event.details or {})
    subject = _object_name(event, details, names)
    sentence = SENTENCES.get(event.action) or (
        UNKNOWN_ACTION if subject is not None else UNKNOWN_ACTION_WITHOUT_OBJECT)
    values = {"actor": event.actor.name if event.actor else _("The system"),
              "object": _content(subject or "", event.object_type in WRITTEN_OBJECTS)}
    values |= {name: _in_sentence(name, details.get(name)) for name in sentence.uses}
    text = escape(str(sentence.text)) % values  # escaped Markup; % escapes the values
    changes = details.pop("changes", None)
    if sentence.changes and {"old", "new"} <= details.keys():
        changes = {sentence.changes: [details.pop("old"), details.pop("new")]}
    return Description(sentence=text, changes=_changes(changes),
                       facts=[(field_label(name), _shown(name, value))
                              for name, value in sorted(details.items())
                              if name not in sentence.uses])


def _object_name(event: AuditEvent, details: dict, names: dict) -> str | None:
    for key in RECORDED_NAMES:
        if details.get(key):
            return str(details[key])
    return names.get((event.object_type, event.object_id))


def _in_sentence(name: str, value) -> str | Markup:
    """A detail inside a sentence: a role is a common noun there ("… as course organiser")."""
    return format_value(name, value).lower() if name == "role" else _shown(name, value)


def _shown(name: str, value) -> str | Markup:
    return _content(format_value(name, value), name in WRITTEN_CONTENT)


def _content(text: str, written: bool) -> str | Markup:
    return marked_written(text) if written and text else text


def _changes(changes) -> list[Change]:
    """``{"title": ["A", "B"]}`` → [Title: «A» → «B»], in the order the fields were given."""
    if not isinstance(changes, dict):
        return []
    result = []
    for name, values in changes.items():
        old, new = values if isinstance(values, list) and len(values) == 2 else (None, values)
        result.append(Change(field_label(name), None if old is None else format_value(name, old),
                             format_value(name, new)))
    return result
