"""The statistics tables, defined once for the page and the spreadsheet downloads.

A table is a title, typed columns and rows of plain values (ints, floats, dates, text);
the page formats each value by its column's kind (:func:`cell_text`), the XLSX writes
it as a number, so the spreadsheet sums to what the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l

from frikomport.statistics.report import Figures, Report
from frikomport.templating import date_short, month_year

TEXT, MONTH, DAY, COUNT, HOURS, RATE, MONEY = (
    "text", "month", "day", "count", "hours", "rate", "money")
BY_ROW = "by-row"  # a column whose rows each hold a different measure (see Table.kinds)
TABLE_KEYS = ("summary", "months", "categories", "service-areas", "employers", "hosts",
              "courses")
COURSES_SHOWN = 25  # on the page; the spreadsheet has every course


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    note: str = ""
    row_kinds: list[str] | None = None  # the kind of each row's BY_ROW cells

    def kinds(self, index: int) -> list[str]:
        """The kind of each cell of row ``index``."""
        return [self.row_kinds[index] if column.kind == BY_ROW else column.kind
                for column in self.columns]

    def formatted(self) -> list[list[str]]:
        return [[cell_text(value, kind) for value, kind in zip(row, self.kinds(index),
                                                                strict=True)]
                for index, row in enumerate(self.rows)]


_FIGURES = [
    Column("registrations", _l("Registrations"), COUNT),
    Column("attended", _l("Attended"), COUNT),
    Column("no_shows", _l("No-shows"), COUNT),
    Column("no_show_rate", _l("No-show rate"), RATE),
    Column("cancellations", _l("Cancellations"), COUNT),
    Column("waiting_only", _l("Waiting list only"), COUNT),
    Column("hours", _l("Training hours"), HOURS),
    Column("fees_ore", _l("Fees charged"), MONEY),
]


def figure_columns() -> list[Column]:
    """The columns of a Figures, headed in the reader's language."""
    return [Column(column.key, str(column.header), column.kind) for column in _FIGURES]


def _values(figures: Figures) -> list:
    return [getattr(figures, column.key) for column in _FIGURES]


def _figure_table(key: str, title, first_header, rows) -> Table:
    return Table(key, str(title), [Column("name", str(first_header), TEXT), *figure_columns()],
                 [[name, *_values(figures)] for name, figures in rows])


def summary(report: Report) -> Table:
    """Year on year: each measure in the period and the same days a year before."""
    rows = []
    for column in figure_columns():
        now, before = getattr(report.totals, column.key), getattr(report.previous, column.key)
        rows.append([str(column.header), now, before, _change(now, before, column.kind)])
    return Table("summary", str(_l("Year on year")), [
        Column("measure", str(_l("Measure")), TEXT),
        Column("now", str(_l("This period")), BY_ROW),
        Column("before", str(_l("A year earlier")), BY_ROW),
        Column("change", str(_l("Change from a year earlier")), RATE)], rows,
        row_kinds=[column.kind for column in _FIGURES])


def _change(now, before, kind: str) -> float | None:
    """The relative change; none for a rate (compare the rates) or from nothing."""
    if kind == RATE or not before or now is None:
        return None
    return (now - before) / before


def months(report: Report) -> Table:
    return Table("months", str(_l("Per month")), [
        Column("month", str(_l("Month")), MONTH), *figure_columns(),
        Column("attended_before", str(_l("Attended a year earlier")), COUNT)],
        [[month, *_values(now), before.attended] for month, now, before in report.months])


def courses(report: Report, limit: int | None = None) -> Table:
    shown = report.by_course[:limit] if limit else report.by_course
    table = Table("courses", str(_l("Per course")), [
        Column("name", str(_l("Course")), TEXT), Column("starts", str(_l("Starts")), DAY),
        *figure_columns()], [[course.title, course.starts_at, *_values(figures)]
                           for course, figures in shown])
    notes = []
    if limit and len(report.by_course) > limit:
        notes.append(str(_l("The %(shown)s courses with the most registrations; the "
                            "spreadsheet has all %(count)s.", shown=limit,
                            count=len(report.by_course))))
    if report.unlisted_courses:
        notes.append(ngettext(
            "%(num)d internal course of another organisation is counted in the figures "
            "but not listed.", "%(num)d internal courses of other organisations are "
            "counted in the figures but not listed.", report.unlisted_courses))
    table.note = " ".join(notes)
    return table


def all_tables(report: Report, course_limit: int | None = None) -> list[Table]:
    """Every table of the report, in page order (empty breakdowns left out)."""
    tables = [summary(report), months(report),
              _figure_table("categories", _l("Per category"), _l("Category"),
                            report.by_category),
              _figure_table("service-areas", _l("Per service area"), _l("Service area"),
                            report.by_service_area)]
    if report.by_employer:
        tables.append(_figure_table("employers", _l("Per employer"), _l("Employer"),
                                    report.by_employer))
    if report.by_host:
        tables.append(_figure_table("hosts", _l("Per host"), _l("Host"), report.by_host))
    tables.append(courses(report, course_limit))
    return tables


def cell_text(value, kind: str) -> str:
    """A value as the page shows it, in the reader's locale."""
    if value is None:
        return "–"
    locale = get_locale()
    if kind == MONTH:
        return month_year(value)
    if kind == DAY:
        return date_short(value)
    if kind == RATE:
        return format_percent(value, "#,##0.0 %", locale=locale)
    if kind == HOURS:
        return format_decimal(round(value, 1), "#,##0.#", locale=locale)
    if kind == MONEY:
        return format_currency(Decimal(value) / 100, "NOK", locale=locale)
    if isinstance(value, date) or kind == TEXT:
        return str(value)
    return format_decimal(value, locale=locale)


def key_figures(report: Report) -> list[tuple[str, str]]:
    """The few numbers at the top of the page, formatted."""
    totals = report.totals
    return [(str(_l("Courses")), cell_text(report.course_count, COUNT)),
            (str(_l("Registrations")), cell_text(totals.registrations, COUNT)),
            (str(_l("Attended")), cell_text(totals.attended, COUNT)),
            (str(_l("No-show rate")), cell_text(totals.no_show_rate, RATE)),
            (str(_l("Training hours")), cell_text(totals.hours, HOURS)),
            (str(_l("Fees charged")), cell_text(totals.fees_ore, MONEY))]
