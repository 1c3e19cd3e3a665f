"""Participant lists that leave the portal: CSV, XLSX (openpyxl) and the sign-in sheet.

A downloaded list is outside the portal's access control and retention, so it carries
only what an organiser needs to run the course, and every download is written to the
audit log (who downloaded which course's list, in which format, when).

The files list every registration, however many: the CSV is streamed (rows are read from
the database in batches and sent as they are written), so a big course is never held in
memory whole; the XLSX is built in openpyxl's write-only mode.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from operator import attrgetter

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.billing.money import kroner_text
from frikomport.courses.models import Course
from frikomport.inputs import spreadsheet_cell
from frikomport.permissions import Permission, ensure
from frikomport.registrations import participants
from frikomport.registrations.models import Registration, RegistrationState

CSV, XLSX, SIGN_IN_SHEET = "csv", "xlsx", "sign-in sheet"
SIGNING_STATES = (RegistrationState.CONFIRMED, RegistrationState.ATTENDED)
BATCH = 500  # rows read from the database (and CSV lines sent) at a time


def _record(session: Session, actor, course: Course, fmt: str, rows: int) -> None:
    record(session, actor, "participants.downloaded", course, course.organisation,
           course=course.title, format=fmt, rows=rows)


def participants_for_download(session: Session, actor, course: Course,
                              fmt: str) -> list[Registration]:
    """The registrations a download in ``fmt`` lists, recorded in the audit log.

    The sign-in sheet lists only those with a seat; the files list every registration
    (waiting list, cancellations) for the organiser's follow-up.
    """
    return list(session.scalars(download_statement(session, actor, course, fmt)))


def download_statement(session: Session, actor, course: Course, fmt: str) -> Select:
    """The query of a download in ``fmt``; its audit event (with the number of rows,
    counted in SQL) is added to the session now, for the caller to commit."""
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    statement = participants.listing(course, SIGNING_STATES if fmt == SIGN_IN_SHEET else None)
    _record(session, actor, course, fmt, session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())))
    return statement


def in_batches(session: Session, statement: Select) -> Iterator[Registration]:
    """The rows, read from the database :data:`BATCH` at a time."""
    return iter(session.scalars(statement.execution_options(yield_per=BATCH)))


def streamed(engine: Engine, statement: Select) -> Iterator[Registration]:
    """The rows for an answer that is sent after the view has returned: read in batches
    through a session of their own, closed when the last row is read or the download is
    broken off. (The request's session is gone by then; the rows need nothing else.)"""
    with Session(engine) as session:
        yield from in_batches(session, statement)


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
    if not course.is_free:  # the fee fixed at confirmation, in the page's own decimals
        columns += [(_("Fee (NOK)"), _fee_text(get_decimal_symbol(get_locale())), 12),
                    (_("Reference"), attrgetter("own_reference"), 20)]
    return columns


def _fee_text(decimal_symbol: str) -> Callable[[Registration], str]:
    """The fixed fee as a number a spreadsheet reads ("1200,50"); empty before a seat.
    The symbol is chosen now: the rows of a streamed download are written after the
    request's locale is gone."""
    def text(registration: Registration) -> str:
        if registration.fee_ore is None:
            return ""
        return kroner_text(registration.fee_ore, decimal_symbol)
    return text


def _csv_line(values: list[str]) -> str:
    line = io.StringIO()
    csv.writer(line, delimiter=";").writerow(values)  # ";": what Excel expects in Norway
    return line.getvalue()


def csv_lines(course: Course, registrations: Iterable[Registration], state_labels: dict,
              now: datetime) -> Iterator[bytes]:
    """The CSV file in pieces of up to :data:`BATCH` lines, for a streamed answer.

    The columns (and their translated headings) are decided now, while the course is
    loaded and the request's language is known; the rows are read as the file is sent.
    """
    return _csv_chunks(_columns(course, state_labels, now), registrations)


def _csv_chunks(columns, registrations: Iterable[Registration]) -> Iterator[bytes]:
    # The BOM: Excel reads the file as UTF-8 only when it starts with one.
    yield ("\ufeff" + _csv_line([heading for heading, _value, _width in columns])).encode()
    chunk = []
    for registration in registrations:
        chunk.append(_csv_line([spreadsheet_cell(value(registration))
                                for _h, value, _w in columns]))
        if len(chunk) == BATCH:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


def to_csv(course: Course, registrations: Iterable[Registration], state_labels: dict,
           now: datetime) -> bytes:
    return b"".join(csv_lines(course, registrations, state_labels, now))


def _bold(sheet, value: str, size: int | None = None):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True, size=size)
    return cell


def to_xlsx(course: Course, registrations: Iterable[Registration], state_labels: dict,
            now: datetime) -> bytes:
    """The workbook, built in write-only mode (rows are written once, in order).

    openpyxl is imported here, not at the top: it takes ~70 ms to import, which every
    web worker and CLI command paid at start for a rare download."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    columns = _columns(course, state_labels, now)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Participants"))
    for index, (_heading, _value, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    sheet.append([_bold(sheet, spreadsheet_cell(course.title), size=14)])
    sheet.append([_bold(sheet, heading) for heading, _value, _width in columns])
    for registration in registrations:
        sheet.append([spreadsheet_cell(value(registration)) for _h, value, _w in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
