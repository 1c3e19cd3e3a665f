"""The period a report page shows: two days from the query string, this year by default."""

from __future__ import annotations

from datetime import date, time, timedelta

from frikomport.timeutil import FIRST_YEAR, LAST_YEAR, local_to_utc


def period_from(values, longest: timedelta | None = None) -> tuple[date, date]:
    """The days asked for in ``from`` and ``to`` (both included, in order); this year's
    first or last day for one that is missing or not a date we show. A period longer than
    ``longest`` is cut to that length."""
    today = date.today()
    first = _day(values.get("from")) or date(today.year, 1, 1)
    last = _day(values.get("to")) or date(today.year, 12, 31)
    first, last = (first, last) if first <= last else (last, first)
    return first, min(last, first + longest) if longest else last


def _day(raw: str | None) -> date | None:
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if FIRST_YEAR < day.year <= LAST_YEAR else None


def bounds(first: date, last: date):
    """Oslo days ``first``…``last`` (both included) as UTC instants."""
    return local_to_utc(first, time()), local_to_utc(last + timedelta(days=1), time())


def as_query(first: date, last: date) -> dict[str, str]:
    return {"from": first.isoformat(), "to": last.isoformat()}
