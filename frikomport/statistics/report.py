"""Roll the per-course counts up into the tables of the statistics page.

Pure Python over the rows of :mod:`.queries`: a test holds these sums to a brute-force
count over the registrations themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from frikomport.registrations.models import RegistrationState
from frikomport.statistics.queries import CountRow, CourseFacts, Scope
from frikomport.timeutil import to_local

State = RegistrationState
GUESTS = None  # the employer key of guests and people without an employer


@dataclass
class Figures:
    """What happened to a set of registrations (states counted at the time of asking)."""

    registrations: int = 0
    attended: int = 0
    no_shows: int = 0
    cancellations: int = 0
    waiting_only: int = 0  # were on the waiting list and never got a seat
    hours: float = 0.0     # attended × the course's hours
    fees_ore: int = 0      # fees charged (see billing.fees.is_charged)

    def add(self, row: CountRow, course_hours: float) -> None:
        count = row.registrations
        self.registrations += count
        if row.state == State.ATTENDED:
            self.attended += count
            self.hours += count * course_hours
        elif row.state == State.NO_SHOW:
            self.no_shows += count
        elif row.state == State.CANCELLED:
            self.cancellations += count
        self.waiting_only += row.never_seated
        self.fees_ore += row.fees_ore

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


def rollup(rows: Iterable[CountRow], facts: dict[int, CourseFacts],
           key: Callable[[CountRow, CourseFacts], object]) -> dict[object, Figures]:
    """The figures of ``rows`` summed per ``key`` (a course's rows all count once)."""
    sums: dict[object, Figures] = defaultdict(Figures)
    for row in rows:
        course = facts.get(row.course_id)
        if course is not None:
            sums[key(row, course)].add(row, course.hours)
    return sums


def total(rows: Iterable[CountRow], facts: dict[int, CourseFacts]) -> Figures:
    return rollup(rows, facts, lambda _row, _course: None).get(None, Figures())


def month_of(course: CourseFacts) -> date:
    return to_local(course.starts_at).date().replace(day=1)


def by_month(rows, facts, previous_rows, previous_facts, first: date,
             last: date) -> list[tuple[date, Figures, Figures]]:
    """Every month of the period (also empty ones) beside the same month a year before."""
    now = rollup(rows, facts, lambda _row, course: month_of(course))
    before = rollup(previous_rows, previous_facts, lambda _row, course: month_of(course))
    months, month = [], first.replace(day=1)
    while month <= last:
        earlier = month.replace(year=month.year - 1)
        months.append((month, now.get(month, Figures()), before.get(earlier, Figures())))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def named(sums: dict[object, Figures], names: Callable[[object], str]) -> list[tuple[str, Figures]]:
    """Rows by name (merging equal names, e.g. the same category in two organisations),
    most registrations first."""
    merged: dict[str, Figures] = defaultdict(Figures)
    for key, figures in sums.items():
        _merge(merged[names(key)], figures)
    return sorted(merged.items(), key=lambda item: (-item[1].registrations, item[0].lower()))


def _merge(into: Figures, figures: Figures) -> None:
    for name in ("registrations", "attended", "no_shows", "cancellations", "waiting_only",
                 "hours", "fees_ore"):
        setattr(into, name, getattr(into, name) + getattr(figures, name))


def per_course(rows, facts) -> list[tuple[CourseFacts, Figures]]:
    sums = rollup(rows, facts, lambda row, _course: row.course_id)
    return sorted(((facts[course_id], figures) for course_id, figures in sums.items()),
                  key=lambda item: (-item[1].registrations, item[0].starts_at, item[0].id))
