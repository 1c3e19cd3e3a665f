"""A person's data, collected from :data:`inventory.SOURCES`, as sections for the page
and as one download: ``data.json`` (machine-readable), ``index.html`` (readable) and one
CSV file per section, in a ZIP."""

from __future__ import annotations

import csv
import enum
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.audit.sentences import FIELD_LABELS
from frikomport.db import utcnow
from frikomport.inputs import spreadsheet_cell
from frikomport.privacy.inventory import SOURCES, Source

# Readable names of the fields, for the page and the readable file.
LABELS = {
    "name": _l("Name"), "email": _l("E-mail address"), "phone": _l("Phone"),
    "job_title": _l("Job title"), "locale": _l("Language"), "employer": _l("Employer"),
    "is_enabled": _l("Account active"), "is_site_admin": _l("Site administrator"),
    "email_confirmed_at": _l("E-mail address confirmed"), "created_at": _l("Created"),
    "last_login_at": _l("Last logged in"), "updated_at": _l("Last changed"),
    "personal_calendar_link": _l("Personal calendar link"), "role": _l("Role"),
    "organisation": _l("Organisation"), "state": _l("Status"),
    "employer_name": _l("Employer (as written)"), "comment": _l("Comment"),
    "course": _l("Course"), "host": _l("Organiser"), "registration_id": _l("Registration"),
    "from_state": _l("From"), "to_state": _l("To"), "note": _l("Note"),
    "changed_by": _l("Changed by"), "title": _l("Title"), "contact_name": _l("Contact person"),
    "contact_email": _l("Contact e-mail"), "contact_phone": _l("Contact phone"),
    "expires_at": _l("Expires"), "subject": _l("Subject"), "body_text": _l("Text"),
    "status": _l("Status"), "sent_at": _l("Sent"), "action": _l("Action"),
    "object_type": _l("Object"), "object_id": _l("Object id"), "details": _l("Details"),
    "filename": _l("File"),
    "own_reference": _l("Your reference"), "fee_ore": _l("Fee (øre)"),
    "participant_name": _l("Participant"), "course_title": _l("Course"),
    "course_starts_at": _l("Course starts"), "buyer_name": _l("Buyer"),
    "reference": _l("Reference"), "amount_ore": _l("Amount (øre)"),
    "invoice_number": _l("Invoice or credit note number"), "invoiced_at": _l("Invoiced"),
    "what": _l("What happened"),
    "unit": _l("Unit"), "competence": _l("Competence"), "source": _l("Source"),
    "issuer": _l("Issued by"), "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"), "decided_at": _l("Decided"),
    "decision_note": _l("Reason given"), "decided_by": _l("Decided by"),
    "host_name": _l("Organiser"), "first_day": _l("First day"), "last_day": _l("Last day"),
    "competences": _l("Competences"), "code": _l("Verification code"),
    "issued_at": _l("Issued"), "revoked_at": _l("Revoked"),
    "days": _l("Days before expiry"), "invited": _l("Invited"), "sent_by": _l("Sent by"),
    "login_service": _l("Login service"), "service_address": _l("Login service address"),
    "identifier": _l("Your identifier there"), "domain": _l("Domain"),
    "approved_at": _l("Approved"),
}
# The audit log's details are named as on the audit log page.
LABELS = FIELD_LABELS | LABELS


@dataclass
class Section:
    key: str
    title: str
    rows: list[dict]


def _plain(value):
    """A value as JSON and CSV hold it (the page formats the original values)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(source: Source, row) -> dict:
    return {name: getattr(row, name) for name in source.columns} | source.derived(row)


def collect(session: Session, user: User) -> list[Section]:
    """Everything the portal holds about ``user``, one section per source."""
    return [Section(source.key, str(source.title),
                    [_row(source, row) for row in session.scalars(source.select(user))])
            for source in SOURCES]


def as_json(user: User, sections: list[Section]) -> str:
    document = {"generated_at": utcnow().isoformat(), "person": user.email,
                "sections": {section.key: section.rows for section in sections}}
    return json.dumps(document, ensure_ascii=False, indent=2, default=_plain)


def _cell(value) -> str:
    return spreadsheet_cell("" if value is None else str(_plain(value)))


def _as_csv(section: Section) -> str:
    buffer = io.StringIO()
    names = list(dict.fromkeys(name for row in section.rows for name in row))
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(names)
    for row in section.rows:
        writer.writerow([_cell(row.get(name)) for name in names])
    return "\ufeff" + buffer.getvalue()  # the BOM makes Excel read UTF-8


def as_zip(user: User, sections: list[Section]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", as_json(user, sections))
        archive.writestr("index.html", render_template(
            "privacy/my_data_document.html", user=user, sections=sections, labels=LABELS,
            generated_at=utcnow()))
        for section in sections:
            if section.rows:
                archive.writestr(f"{section.key}.csv", _as_csv(section))
    return buffer.getvalue()
