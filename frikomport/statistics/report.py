"""Roll the per-course counts up into the tables of the statistics page.

Pure Python over the rows of :mod:`.queries`: a test holds these sums to a brute-force
count over the registrations themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from frikomport.statistics.queries import SUMS, CourseFacts, Scope
from frikomport.timeutil import to_local


@dataclass(slots=True)
class Figures:
    """What happened to a set of registrations (states counted at the time of asking)."""

    registrations: int = 0
    attended: int = 0
    no_shows: int = 0
    cancellations: int = 0
    waiting_only: int = 0  # were on the waiting list and never got a seat
    hours: float = 0.0     # attended × the course's hours
    fees_ore: int = 0      # fees charged (see billing.fees.is_charged)

    @classmethod
    def of(cls, sums: tuple[int, ...], hours: float) -> Figures:
        """From the sums of :data:`queries.SUMS` and the training hours."""
        registrations, attended, no_shows, cancellations, waiting_only, fees_ore = sums
        return cls(registrations, attended, no_shows, cancellations, waiting_only, hours,
                   fees_ore)

    def add(self, other: Figures) -> None:
        self.registrations += other.registrations
        self.attended += other.attended
        self.no_shows += other.no_shows
        self.cancellations += other.cancellations
        self.waiting_only += other.waiting_only
        self.hours += other.hours
        self.fees_ore += other.fees_ore

    @property
    def no_show_rate(self) -> float | None:
        """No-shows per marked attendance, or None when nobody was marked yet."""
        marked = self.attended + self.no_shows
        return self.no_shows / marked if marked else None


@dataclass
class Report:
    scope: Scope
    first: date
    last: date
    course_count: int
    totals: Figures
    previous: Figures  # the same days a year earlier
    months: list[tuple[date, Figures, Figures]]  # month, this period, a year earlier
    by_category: list[tuple[str, Figures]]
    by_service_area: list[tuple[str, Figures]]
    by_course: list[tuple[CourseFacts, Figures]]
    by_employer: list[tuple[str, Figures]] = field(default_factory=list)
    by_host: list[tuple[str, Figures]] = field(default_factory=list)
    unlisted_courses: int = 0  # counted, but another organisation's internal courses


CourseRows = list[tuple[CourseFacts, Figures]]
ATTENDED = SUMS.index("attended")


def course_rows(rows: list[tuple[CourseFacts, tuple[int, ...]]]) -> CourseRows:
    """The query's course rows with their figures (hours: attended × the course's)."""
    return [(course, Figures.of(sums, sums[ATTENDED] * course.hours))
            for course, sums in rows]


def rollups(rows: CourseRows, keys: dict[str, Callable[[CourseFacts], object]]
            ) -> dict[str, dict[object, Figures]]:
    """For each of ``keys`` (a name and a function of the course), the figures of the
    courses summed per its value: in one pass over the rows."""
    sums = {name: defaultdict(Figures) for name in keys}
    pairs = [(sums[name], key) for name, key in keys.items()]
    for course, figures in rows:
        for found, key in pairs:
            found[key(course)].add(figures)
    return sums


def total(rows: CourseRows) -> Figures:
    return sum_of(figures for _course, figures in rows)


def sum_of(many) -> Figures:
    result = Figures()
    for figures in many:
        result.add(figures)
    return result


def month_of(course: CourseFacts) -> date:
    return to_local(course.starts_at).date().replace(day=1)


def months_of(first: date, last: date) -> list[date]:
    """The first day of each month from ``first`` to ``last``."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def by_month(now: dict[date, Figures], previous: dict[date, Figures], first: date,
             last: date) -> list[tuple[date, Figures, Figures]]:
    """Every month of the period (also empty ones) beside the same month a year before
    (``now`` and ``previous``: the figures by month)."""
    return [(month, now.get(month, Figures()),
             previous.get(month.replace(year=month.year - 1), Figures()))
            for month in months_of(first, last)]


def named(sums: dict[object, Figures], names: Callable[[object], str]) -> list[tuple[str, Figures]]:
    """Rows by name (merging equal names, e.g. the same category in two organisations),
    most registrations first; a name nobody registered under is left out."""
    merged: dict[str, Figures] = defaultdict(Figures)
    for key, figures in sums.items():
        if figures.registrations:
            merged[names(key)].add(figures)
    return sorted(merged.items(), key=lambda item: (-item[1].registrations, item[0].lower()))


def per_course(rows: CourseRows) -> list[tuple[CourseFacts, Figures]]:
    """The courses somebody registered for, most registrations first."""
    return sorted(((course, figures) for course, figures in rows if figures.registrations),
                  key=lambda item: (-item[1].registrations, item[0].starts_at, item[0].id))
