"""The invoice basis as CSV and XLSX for a finance system: one row per participant.

The column layout is fixed and documented in the README ("Invoicing"), in this order,
so an import in the municipality's finance system can be set up once. Amounts are
numbers: in XLSX a number cell in kroner, in CSV with the page's decimal symbol.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import gettext as _

from frikomport.billing.services import BuyerGroup
from frikomport.inputs import spreadsheet_cell
from frikomport.registrations.models import Registration
from frikomport.timeutil import to_local

Row = tuple[BuyerGroup, Registration]


def _columns() -> list[tuple[str, Callable[[BuyerGroup, Registration], object], int]]:
    """(heading, value, XLSX width) of every column, in the documented order."""
    def organisation(group, attribute):
        return getattr(group.organisation, attribute) if group.organisation else ""

    def course_day(_group, registration):
        starts = registration.course.starts_at
        return to_local(starts).date().isoformat() if starts else ""

    return [
        (_("Buyer"), lambda g, _r: g.name, 28),
        (_("Organisation number"), lambda g, _r: organisation(g, "org_number"), 14),
        (_("Buyer reference"), lambda g, _r: organisation(g, "buyer_reference"), 18),
        (_("Participant"), lambda _g, r: r.name, 26),
        (_("Reference"), lambda _g, r: r.own_reference, 18),
        (_("Course"), lambda _g, r: r.course.title, 36),
        (_("Date"), course_day, 12),
        (_("Fee (NOK)"), lambda _g, r: r.fee_ore / 100, 12),
        (_("Registration no."), lambda _g, r: r.id, 14),
    ]


def _rows(groups: Iterable[BuyerGroup]) -> Iterable[Row]:
    return ((group, registration) for group in groups for registration in group.registrations)


def to_csv(groups: list[BuyerGroup]) -> bytes:
    """UTF-8 with a BOM and ";" between fields, as Excel in Norway expects."""
    decimal = get_decimal_symbol(get_locale())
    columns = _columns()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([heading for heading, _value, _width in columns])
    for group, registration in _rows(groups):
        writer.writerow([_csv_value(value(group, registration), decimal)
                         for _heading, value, _width in columns])
    return ("\ufeff" + out.getvalue()).encode()


def _csv_value(value, decimal: str) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", decimal)
    return spreadsheet_cell(str(value))


def to_xlsx(groups: list[BuyerGroup]) -> bytes:
    from openpyxl import Workbook  # imported when a workbook is made (see registrations)
    from openpyxl.utils import get_column_letter

    columns = _columns()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Invoice basis"))
    for index, (_heading, _value, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([heading for heading, _value, _width in columns])
    for group, registration in _rows(groups):
        sheet.append([_xlsx_value(value(group, registration)) for _h, value, _w in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value):
    return value if isinstance(value, int | float) else spreadsheet_cell(str(value))
