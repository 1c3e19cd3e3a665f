"""Jinja filters shared by the templates."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_decimal
from flask_babel import gettext as _

from frikomport.courses.markdown import render_markdown


def price(value: int) -> str:
    return _("Free") if value == 0 else f"{format_decimal(value)} kr"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["price"] = price
