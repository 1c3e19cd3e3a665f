"""The edge where input enters the portal, guarded as a whole rather than field by field.

* Every query parameter, form field and upload file name is cleaned before a view sees
  it (:class:`CleanRequest`): line breaks are normalised to ``\\n`` and NUL and every
  other control character is removed. PostgreSQL cannot store NUL, and control
  characters break e-mail headers, iCalendar files and spreadsheets.
* URL converters are bounded: ``<int:…>`` matches only ids a database column can hold
  (larger ones are simply not found), and string segments refuse control characters.
* Integer query parameters are read with :func:`int_arg`, which clamps them to a range.
* An overlong query string is answered with 414.

Field-level guards (single-line text, date ranges, integer ranges) live in
:mod:`frikomport.forms`, which every form inherits.
"""

from __future__ import annotations

import re

from flask import Request, abort
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter

MAX_DB_INTEGER = 2**31 - 1  # PostgreSQL's integer; SQLite's is larger
MAX_QUERY_STRING = 8192  # as much as common web servers accept on a request line

_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029\x85]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE_RUN = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """Text with ``\\n`` line breaks and no control characters except tab and newline."""
    return _CONTROL.sub("", _LINE_BREAK.sub("\n", value))


def single_line(value: str) -> str:
    """Text for one-line fields (titles, names, subjects): all whitespace runs, line
    breaks included, become one space."""
    return _WHITESPACE_RUN.sub(" ", clean_text(value)).strip()


def spreadsheet_cell(value: str) -> str:
    """Text for a CSV or XLSX cell, whatever was stored: control characters (which
    spreadsheets refuse) are removed, and a leading =, +, -, @, tab or line break is
    made literal (formula injection)."""
    value = clean_text(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\n") else value


SHEET_NAME_LENGTH = 31  # the most a worksheet name may have


def spreadsheet_sheet_name(title: str) -> str:
    """A worksheet name from any title: without the characters Excel refuses there,
    at most 31 characters, never empty."""
    return "".join(c for c in title if c not in "[]:*?/\\")[:SHEET_NAME_LENGTH] or "-"


def _clean_value(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, FileStorage) and value.filename:
        value.filename = single_line(value.filename)
    return value


class CleanMultiDict(ImmutableMultiDict):
    """Request parameters with keys and values cleaned on the way in."""

    def __init__(self, mapping=None):
        pairs = MultiDict(mapping).items(multi=True) if mapping is not None else ()
        super().__init__([(clean_text(key) if isinstance(key, str) else key,
                           _clean_value(value)) for key, value in pairs])


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict


def refuse_overlong_query() -> None:
    """``before_request``: a query string no form of ours produces is refused early."""
    from flask import request

    if len(request.query_string) > MAX_QUERY_STRING:
        abort(414)


def int_arg(args, name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter clamped to [minimum, maximum]; junk gives the default."""
    raw = args.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        value = default
    return min(max(value, minimum), maximum)


class BoundedIntegerConverter(IntegerConverter):
    """``<int:id>`` that matches only values an id column can hold."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INTEGER)
        super().__init__(map, *args, **kwargs)


class SafeStringConverter(UnicodeConverter):
    """A path segment without control characters, at most 500 characters long."""

    def __init__(self, map, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None):
        super().__init__(map, minlength, maxlength or 500, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f-\\x9f]")


def install(app) -> None:
    """Use the clean request class and bounded converters (before routes are added)."""
    app.request_class = CleanRequest
    app.url_map.converters.update(int=BoundedIntegerConverter, default=SafeStringConverter,
                                  string=SafeStringConverter)
    app.before_request(refuse_overlong_query)
