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

A refused form is summarised at its top (:func:`error_summary`, shown by the
``form_errors`` macro): one line per error, linked to the input it is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
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


@dataclass(frozen=True)
class SummaryLine:
    """One error in the summary: its text, and the id of the input it is about (None when
    it is about the whole form, such as a refused business rule)."""

    text: str
    target: str | None = None


def error_summary(form) -> list[SummaryLine]:
    """Every error of a form in page order: the form's own first, then each input's,
    also those inside repeated rows, so each can be linked to (WCAG 3.3.1)."""
    lines = [SummaryLine(str(message)) for message in form.form_errors]
    for field in form:
        lines += _field_lines(field)
    return lines


def _field_lines(field) -> Iterator[SummaryLine]:
    if isinstance(field, FieldList):
        for entry in field.entries:
            yield from _field_lines(entry)
    elif isinstance(field, FormField):
        yield from (SummaryLine(str(message)) for message in field.form.form_errors)
        for sub in field:
            yield from _field_lines(sub)
    elif isinstance(field, HiddenField):  # the CSRF token: nothing a person can fix there
        yield from (SummaryLine(str(message)) for message in field.errors)
    else:
        yield from (SummaryLine(f"{field.label.text}: {message}", field.id)
                    for message in field.errors)


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

    def error_summary(self) -> list[SummaryLine]:
        return error_summary(self)


class RowForm(PlainForm):
    """A repeated group of fields inside a form (``FormField``), guarded the same way."""

    class Meta(GuardedMeta):
        pass


class RowList(FieldList):
    """Repeated rows (``FormField``) whose inputs are named by row: "Session 2, start time".

    Column headers alone do not name an input for everyone (WCAG 1.3.1, 2.4.6): a screen
    reader in forms mode, the error summary and a phone that stacks the rows all need the
    row in the label. ``row_label`` is a translatable text with ``%(number)d``; the row
    itself gets it as its label ("Session 2").
    """

    def __init__(self, unbound_field, row_label, **kwargs):
        super().__init__(unbound_field, **kwargs)
        self.row_label = row_label

    def _add_entry(self, *args, **kwargs):
        # Every row is made here (when the form is read, and by append_entry).
        entry = super()._add_entry(*args, **kwargs)
        row = str(self.row_label) % {"number": len(self.entries)}
        entry.label.text = row
        for sub in entry:
            sub.label.text = f"{row}, {sub.label.text.lower()}"
        return entry

