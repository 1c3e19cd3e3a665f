"""Time zones: everything is stored in UTC and entered and shown in Europe/Oslo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
FIRST_YEAR, LAST_YEAR = 1900, 2199  # dates outside are refused (see frikomport.forms)


def local_to_utc(day: date, at: time) -> datetime:
    """Oslo wall-clock time to UTC (the right offset for summer and winter time)."""
    return datetime.combine(day, at, tzinfo=OSLO).astimezone(UTC)


def naive_local_to_utc(value: datetime | None) -> datetime | None:
    """A naive datetime from a form (Oslo wall-clock) to aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=OSLO).astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(OSLO) if value is not None else None


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next, in UTC (Oslo months)."""
    start = local_to_utc(date(year, month, 1), time())
    following = date(year + month // 12, month % 12 + 1, 1)
    return start, local_to_utc(following, time())


def parse_month(raw: str | None) -> date | None:
    """``YYYY-MM`` to the first day of that month, or None if it is not a month we show."""
    year, _, month = (raw or "").partition("-")
    if not (year.isascii() and year.isdigit() and month.isascii() and month.isdigit()):
        return None
    if not (FIRST_YEAR <= int(year) <= LAST_YEAR and 1 <= int(month) <= 12):
        return None
    return date(int(year), int(month), 1)
