"""A unit's competence matrix as XLSX: what the page shows, in the reader's language.

Each competence has two columns, its state in words and the last valid day (a real date
cell, empty where the competence is missing, has no expiry or is not required). A second
sheet holds the summary per competence as numbers. Downloading the matrix takes people's
data out of the portal, so it is written to the audit log (as participant lists are).
"""

from __future__ import annotations

import io

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.competence.matrix import STANDING_LABELS, Matrix, state_words
from frikomport.inputs import spreadsheet_cell, spreadsheet_sheet_name

DATE_FORMAT = "yyyy-mm-dd"
NAME_WIDTH, COLUMN_WIDTH = 30, 18


def filename(matrix: Matrix) -> str:
    return f"kompetanse-enhet-{matrix.unit.id}-{matrix.on.isoformat()}.xlsx"


def download(session: Session, actor, matrix: Matrix) -> bytes:
    """The workbook, with its audit event added to the session for the caller to commit."""
    record(session, actor, "unit.matrix_downloaded", matrix.unit, matrix.unit.organisation,
           name=matrix.unit.name, rows=len(matrix.rows))
    return to_xlsx(matrix)


def to_xlsx(matrix: Matrix) -> bytes:
    """openpyxl is imported here, as in the other exports: it is slow to import and
    only a download needs it."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(spreadsheet_sheet_name(matrix.unit.name))
    headers = [_("Name"), _("Job title")]
    for competence in matrix.competences:
        headers += [competence.name, _("%(competence)s: last valid day",
                                       competence=competence.name)]
    for index in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = (
            NAME_WIDTH if index <= 2 else COLUMN_WIDTH)
    sheet.freeze_panes = "C3"
    sheet.append([_bold(sheet, _title(matrix))])
    sheet.append([_bold(sheet, header) for header in headers])
    words = state_words()
    for row in matrix.rows:
        cells = [spreadsheet_cell(row.name), spreadsheet_cell(row.job_title)]
        for cell in row.cells:
            cells += [words[cell.standing],
                      _date(sheet, cell.valid_until if cell.required else None)]
        sheet.append(cells)
    _summary_sheet(workbook, matrix, words)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _summary_sheet(workbook, matrix: Matrix, words: dict) -> None:
    sheet = workbook.create_sheet(spreadsheet_sheet_name(_("Summary")))
    sheet.column_dimensions["A"].width = NAME_WIDTH
    sheet.append([_bold(sheet, _title(matrix))])
    sheet.append([_bold(sheet, header) for header in (
        _("Competence"), *(words[state] for state in STANDING_LABELS))])
    for tally in matrix.summary:
        sheet.append([spreadsheet_cell(tally.competence.name),
                      *(tally.counts[state] for state in STANDING_LABELS)])


def _title(matrix: Matrix) -> str:
    return _("Competence in %(unit)s on %(date)s", unit=matrix.unit.name,
             date=format_date(matrix.on, "long"))


def _bold(sheet, text: str):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=spreadsheet_cell(text))
    cell.font = Font(bold=True)
    return cell


def _date(sheet, value):
    if value is None:
        return None
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = DATE_FORMAT
    return cell
