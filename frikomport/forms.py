"""The base of every form: guards that hold for whole kinds of fields.

Each field is bound through :meth:`GuardedMeta.bind_field`, which adds

* to one-line text fields (everything but text areas and passwords): a filter that turns
  line breaks and tabs into spaces, so a title or an e-mail subject can never carry a
  header break into an e-mail, a calendar file or a spreadsheet;
* to date and date-time fields: a validator that keeps the year between
  :data:`FIRST_YEAR` and :data:`LAST_YEAR` (converting year 1 or 9999 between time
  zones overflows Python's datetime);
* to integer fields: a validator that keeps the value within a database integer.

Request-level cleaning (NUL and control characters) is done before, in
:mod:`frikomport.inputs`.
"""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form as PlainForm
from wtforms import (
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.fields.datetime import DateField, DateTimeField, TimeField
from wtforms.validators import NumberRange, ValidationError

from frikomport.inputs import MAX_DB_INTEGER, single_line
from frikomport.timeutil import FIRST_YEAR, LAST_YEAR


def strip(value):
    return value.strip() if isinstance(value, str) else value


def _single_line(value):
    return single_line(value) if isinstance(value, str) else value


def _year_in_range(_form, field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Give a date between the years %(first)d and %(last)d.",
                                 first=FIRST_YEAR, last=LAST_YEAR))


_WITHIN_DB_INTEGER = NumberRange(min=-MAX_DB_INTEGER, max=MAX_DB_INTEGER,
                                 message=_l("The number is too large."))


def _guards(field_class) -> tuple[list, list]:
    """Extra (filters, validators) for a kind of field."""
    if issubclass(field_class, (DateField, DateTimeField)) and not issubclass(
            field_class, TimeField):
        return [], [_year_in_range]
    if issubclass(field_class, IntegerField):
        return [], [_WITHIN_DB_INTEGER]
    if issubclass(field_class, StringField) and not issubclass(
            field_class, (TextAreaField, PasswordField)):
        return [_single_line], []
    return [], []


class GuardedMeta:
    def bind_field(self, form, unbound_field, options):
        filters, validators = _guards(unbound_field.field_class)
        if filters or validators:
            kwargs = unbound_field.kwargs
            options = dict(options,
                           filters=[*kwargs.get("filters", ()), *filters],
                           validators=[*(kwargs.get("validators") or ()), *validators])
        return unbound_field.bind(form=form, **options)


def mark_page_invalid() -> None:
    """Remember that this request refused what was sent: the page title then starts with
    "Error:", the first thing a screen reader says after the page loads (WCAG 3.3.1)."""
    g.page_has_errors = True


def page_has_errors() -> bool:
    return g.get("page_has_errors", False)


class Form(FlaskForm):
    """Base of every form posted to the portal (CSRF-protected, guarded fields).
    Without fields it is the CSRF-only form behind buttons such as "Publish"."""

    class Meta(GuardedMeta):
        pass

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            mark_page_invalid()
        return valid


class RowForm(PlainForm):
    """A repeated group of fields inside a form (``FormField``), guarded the same way."""

    class Meta(GuardedMeta):
        pass
