"""Participant lists as CSV and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io

from flask_babel import format_datetime
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from frikomport.inputs import clean_text
from frikomport.registrations.models import Registration


def _columns() -> list[str]:
    return [_("Name"), _("E-mail"), _("Phone"), _("Employer"), _("Status"), _("Registered"),
            _("Comment")]


def _row(registration: Registration, state_labels: dict) -> list[str]:
    return [registration.name, registration.email, registration.phone,
            registration.employer_label, str(state_labels[registration.state]),
            format_datetime(registration.created_at, "yyyy-MM-dd HH:mm"), registration.comment]


def _safe_cell(value: str) -> str:
    """Whatever was stored, a cell is plain text: control characters (which spreadsheets
    refuse) are removed, and a leading =, +, -, @, tab or line break is made literal
    (formula injection)."""
    value = clean_text(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\n") else value


def to_csv(registrations: list[Registration], state_labels: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")  # what Excel expects in Norway
    writer.writerow(_columns())
    for registration in registrations:
        writer.writerow([_safe_cell(v) for v in _row(registration, state_labels)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8


def to_xlsx(registrations: list[Registration], state_labels: dict, title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Participants")
    sheet.append([_safe_cell(title)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(_columns())
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for registration in registrations:
        sheet.append([_safe_cell(v) for v in _row(registration, state_labels)])
    for column, width in zip("ABCDEFG", (28, 32, 14, 28, 14, 18, 40), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
