"""Jinja filters shared by the templates."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from frikomport.courses.markdown import render_markdown


def price(value: int) -> str:
    return _("Free") if value == 0 else f"{format_decimal(value)} kr"


def month_label(value: str) -> str:
    """"2026-12" → "desember 2026"; anything else is shown as it is."""
    try:
        year, month = (int(part) for part in value.split("-"))
        return format_date(date(year, month, 1), "MMMM y")
    except ValueError:
        return value


def attributes(values: dict) -> dict:
    """The HTML attributes that have a value: WTForms would write ``None`` as "None"."""
    return {name: value for name, value in values.items() if value is not None}


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["attributes"] = attributes
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["price"] = price
    app.jinja_env.filters["month_label"] = month_label
