"""Jinja filters shared by the templates.

Dates and times are written with Babel's locale data, one format per kind of place, so
a page in English says "Sunday, December 6, 2026, 9:00 AM" where a Bokmål page says
"søndag 6. desember 2026, 09:00" (no hand-written "kl." or month patterns):

- ``datetime_long``: course pages (sessions, deadlines)
- ``datetime_short``: cards, lists and search hits
- ``date_long`` / ``date_short``: a day without a time
- ``time_only``: the calendar and the end of a session
- ``month_year`` / ``weekday_short`` / ``weekday_long``: the month calendar
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_skeleton, get_datetime_format
from flask import Flask
from flask_babel import format_currency, format_date, format_time, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from frikomport.billing import fees
from frikomport.courses.markdown import render_markdown

WRITTEN_LANGUAGE = "nb"  # of what people write when nothing says otherwise
SHORT_DATE = "yMMMEd"  # CLDR skeleton: "søn. 6. des. 2026", "Sun, Dec 6, 2026"


def price(ore: int) -> str:
    """A fee in øre in the locale's own currency pattern: "1 200 kr", "1 200,50 kr",
    "NOK1,200.50" (øre only when there are any); 0 is "Free"."""
    return _("Free") if ore == 0 else amount(ore)


def amount(ore: int) -> str:
    """A sum of money as :func:`price` writes it, but 0 is "0 kr" (a total, not a fee)."""
    pattern = get_locale().currency_formats["standard"].pattern
    if ore % 100 == 0:
        return format_currency(ore // 100, "NOK", format=pattern.replace(".00", ""),
                               currency_digits=False)
    return format_currency(Decimal(ore) / 100, "NOK", format=pattern, currency_digits=False)


def fee_label(course, user) -> str:
    """The fee a card shows: the viewer's own when logged in; otherwise the one fee, or
    "from" the lowest when the course has several."""
    own = fees.fee_for_user(course, user)
    if own is not None:
        return price(own)
    charged = {course.fee_host_ore, course.fee_region_ore, course.fee_guest_ore}
    if len(charged) == 1:
        return price(charged.pop())
    return _("From %(price)s", price=price(min(charged)))


def _skeleton(value: date | datetime, skeleton: str) -> str:
    """The locale's own pattern for these fields (in the user's time zone)."""
    return format_skeleton(skeleton, value, tzinfo=get_timezone(), locale=get_locale())


def _date_and_time(day: str, value: datetime, width: str) -> str:
    """A date and a short time joined the way the locale joins them ("{1}, {0}")."""
    pattern = get_datetime_format(width, locale=get_locale()).replace("'", "")
    return pattern.replace("{0}", format_time(value, "short")).replace("{1}", day)


def datetime_long(value: datetime) -> str:
    return _date_and_time(format_date(value, "full"), value, "full")


def datetime_short(value: datetime) -> str:
    return _date_and_time(_skeleton(value, SHORT_DATE), value, "medium")


def date_long(value: date | datetime) -> str:
    return format_date(value, "full")


def date_short(value: date | datetime) -> str:
    return _skeleton(value, SHORT_DATE)


def time_only(value: datetime) -> str:
    return format_time(value, "short")


def month_year(value: date) -> str:
    return _skeleton(value, "yMMMM")


def short_month(value: date) -> str:
    """"jan. 2026", "Jan 2026": a month where space is short (a chart's axis)."""
    return _skeleton(value, "yMMM")


def weekday_short(value: date) -> str:
    return _skeleton(value, "EEE")


def weekday_long(value: date) -> str:
    return _skeleton(value, "EEEE")


def month_label(value: str) -> str:
    """"2026-12" → "desember 2026"; anything else is shown as it is."""
    try:
        year, month = (int(part) for part in value.split("-"))
        return month_year(date(year, month, 1))
    except ValueError:
        return value


def written(content, language: str | None = None, element: str = "span") -> Markup:
    """Text people wrote (a course in its ``content_language``; names and places in
    Norwegian by default), marked with its language when the page is in another one, so
    screen readers pronounce it right (WCAG 3.1.2)."""
    content, language = escape(content), language or WRITTEN_LANGUAGE
    if str(get_locale()) == language:
        return content
    return Markup('<{0} lang="{1}">{2}</{0}>').format(element, language, content)


def attributes(values: dict) -> dict:
    """The HTML attributes that have a value: WTForms would write ``None`` as "None"."""
    return {name: value for name, value in values.items() if value is not None}


FILTERS = {
    "attributes": attributes, "markdown": render_markdown, "price": price, "amount": amount,
    "month_label": month_label, "written": written,
    "datetime_long": datetime_long, "datetime_short": datetime_short,
    "date_long": date_long, "date_short": date_short, "time_only": time_only,
    "month_year": month_year, "weekday_short": weekday_short, "weekday_long": weekday_long,
}


def register_filters(app: Flask) -> None:
    """The filters, and the fee helpers as globals: course cards are macros imported
    without the request's context, so they reach the viewer through these."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(
        fee_label=lambda course: fee_label(course, current_user),
        own_fee=lambda course: fees.fee_for_user(course, current_user))
