"""Participant lists that leave the portal: CSV, XLSX (openpyxl) and the sign-in sheet.

A downloaded list is outside the portal's access control and retention, so it carries
only what an organiser needs to run the course, and every download is written to the
audit log (who downloaded which course's list, in which format, when).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from operator import attrgetter

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.courses.models import Course
from frikomport.inputs import spreadsheet_cell
from frikomport.registrations import services
from frikomport.registrations.models import Registration, RegistrationState

CSV, XLSX, SIGN_IN_SHEET = "csv", "xlsx", "sign-in sheet"
SIGNING_STATES = (RegistrationState.CONFIRMED, RegistrationState.ATTENDED)


def participants_for_download(session: Session, actor, course: Course,
                              fmt: str) -> list[Registration]:
    """The registrations a download in ``fmt`` lists, recorded in the audit log.

    The sign-in sheet lists only those with a seat; the files list every registration
    (waiting list, cancellations) for the organiser's follow-up.
    """
    registrations = services.participants(session, actor, course)
    if fmt == SIGN_IN_SHEET:
        registrations = [r for r in registrations if r.state in SIGNING_STATES]
    record(session, actor, "participants.downloaded", course, course.organisation,
           course=course.title, format=fmt, rows=len(registrations))
    return registrations


def _columns(course: Course, state_labels: dict,
             now: datetime) -> list[tuple[str, Callable[[Registration], str], int]]:
    """(heading, value, XLSX width) of each column; no internal ids, no timestamps.

    Name, employer, e-mail and state are what running a course takes. The phone number
    is included only until the course has ended: it is for reaching someone at short
    notice (room moved, course cancelled on the day); afterwards the list serves
    attendance and follow-up, for which e-mail does. The comment only when the course
    asks for one: a course that does not ask has decided it needs none.
    """
    columns = [(_("Name"), attrgetter("name"), 28), (_("E-mail"), attrgetter("email"), 32)]
    if course.ends_at is None or now < course.ends_at:
        columns.append((_("Phone"), attrgetter("phone"), 14))
    columns += [(_("Employer"), attrgetter("employer_label"), 28),
                (_("Status"), lambda r: str(state_labels[r.state]), 14)]
    if course.ask_for_comment:
        columns.append((_("Comment"), attrgetter("comment"), 40))
    return columns


def to_csv(course: Course, registrations: list[Registration], state_labels: dict,
           now: datetime) -> bytes:
    columns = _columns(course, state_labels, now)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")  # what Excel expects in Norway
    writer.writerow([heading for heading, _value, _width in columns])
    for registration in registrations:
        writer.writerow([spreadsheet_cell(value(registration)) for _h, value, _w in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8


def to_xlsx(course: Course, registrations: list[Registration], state_labels: dict,
            now: datetime) -> bytes:
    columns = _columns(course, state_labels, now)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Participants")
    sheet.append([spreadsheet_cell(course.title)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([heading for heading, _value, _width in columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for registration in registrations:
        sheet.append([spreadsheet_cell(value(registration)) for _h, value, _w in columns])
    for cell, (_heading, _value, width) in zip(sheet[2], columns, strict=True):
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
