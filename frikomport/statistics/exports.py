"""Statistics tables as XLSX: numbers stay numbers (kroner, hours, rates), so the
spreadsheet's sums equal the page's figures."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from frikomport.inputs import spreadsheet_cell, spreadsheet_sheet_name
from frikomport.statistics.tables import DAY, HOURS, MONEY, MONTH, RATE, Table
from frikomport.timeutil import to_local

FORMATS = {MONEY: "#,##0.00", HOURS: "0.0", RATE: "0.0%", MONTH: "yyyy-mm",
           DAY: "yyyy-mm-dd"}


def to_xlsx(tables: list[Table]) -> bytes:
    """A workbook with one sheet per table: a title row, the headers, the rows."""
    from openpyxl import Workbook  # imported when a workbook is made (see registrations)
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(spreadsheet_sheet_name(table.title))
        sheet.column_dimensions["A"].width = 40
        heading = WriteOnlyCell(sheet, value=spreadsheet_cell(table.title))
        heading.font = Font(bold=True)
        sheet.append([heading])
        sheet.append([spreadsheet_cell(column.header) for column in table.columns])
        for index, row in enumerate(table.rows):
            sheet.append([_cell(sheet, value, kind, WriteOnlyCell)
                          for value, kind in zip(row, table.kinds(index), strict=True)])
        if table.note:
            sheet.append([])
            sheet.append([spreadsheet_cell(table.note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet, value, kind: str, cell_type):
    if value is None:
        return None
    if isinstance(value, str):
        return spreadsheet_cell(value)
    if kind == MONEY:
        value = Decimal(value) / 100
    elif isinstance(value, datetime):
        value = to_local(value).date()
    elif isinstance(value, float):
        value = round(value, 4)
    cell = cell_type(sheet, value=value)
    if kind in FORMATS or isinstance(value, date):
        cell.number_format = FORMATS.get(kind, "yyyy-mm-dd")
    return cell
