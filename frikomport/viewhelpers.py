"""Small helpers that keep request handlers short."""

from __future__ import annotations

import functools
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import flash, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError, OperationalError

from frikomport.db import is_lock_conflict
from frikomport.errors import DomainError, NotFoundError, PermissionDeniedError
from frikomport.extensions import db
from frikomport.forms import mark_page_invalid


@dataclass(frozen=True)
class Outcome:
    """Result of :func:`run_service`: true when the change was committed."""

    ok: bool
    value: Any = None

    def __bool__(self) -> bool:
        return self.ok


LOCK_RETRIES = 8


class NoForm:
    """Collects refused-rule messages for actions that have no form (e.g. e-mailed links)."""

    def __init__(self):
        self.form_errors: list[str] = []
        self.errors: dict[str, list[str]] = {}


def run_service(form, action: Callable[[], Any]) -> Outcome:
    """Run a service call and commit; on a refused rule, roll back and show the message.

    Access errors are re-raised so they become 404/403 pages rather than form messages.
    A transaction that loses a race — for a lock (busy SQLite, PostgreSQL deadlock) or
    for a unique row (the same form sent twice at once) — is rolled back and run again
    from the start, so the rules are re-checked on fresh data and the loser gets the
    rule's message rather than a server error.
    """
    for attempt in itertools.count(1):
        try:
            value = action()
            db.session.commit()
        except (NotFoundError, PermissionDeniedError):
            db.session.rollback()
            raise
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            mark_page_invalid()
            return Outcome(False)
        except (OperationalError, IntegrityError) as error:
            db.session.rollback()
            lost_race = isinstance(error, IntegrityError) or is_lock_conflict(error)
            if not lost_race or attempt == LOCK_RETRIES:
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)
            continue
        return Outcome(True, value)


def flash_form_errors(form) -> None:
    """Show a form's errors as flash messages (for small forms that redirect back)."""
    for message in form.form_errors:
        flash(message, "danger")
    for field_errors in form.errors.values():
        if field_errors is form.form_errors:  # WTForms repeats them (above) in .errors
            continue
        for message in field_errors:
            flash(message, "danger")


def render_form(template: str, form, **context):
    """Render a page with forms; a POST whose form (any form on the page) has errors answers
    400, and its title says so, also for a message a view added itself (a wrong password)."""
    forms = [form, *(value for value in context.values() if isinstance(value, FlaskForm))]
    refused = request.method == "POST" and any(f.errors or f.form_errors for f in forms)
    if refused:
        mark_page_invalid()
    return render_template(template, form=form, **context), 400 if refused else 200


def no_store(view):
    """For pages and feeds that show personal data to whoever holds a link (no login):
    browsers and proxies must not keep a copy."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return wrapper


def safe_next_url(target: str | None, default: str) -> str:
    """Only follow ``next`` to a path on this site (no open redirects). A backslash is
    refused anywhere: browsers read ``/\\evil.example`` as ``//evil.example``."""
    if not target or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def too_many_attempts(seconds: int):
    """The 429 page for too many wrong passwords (accounts.throttle said wait)."""
    minutes = max(1, (seconds + 59) // 60)
    response = make_response(render_template(
        "error.html", status=429, title=_("Too many attempts"),
        message=ngettext("Too many wrong passwords from here. Try again in %(num)d minute, "
                         "or choose a new password.",
                         "Too many wrong passwords from here. Try again in %(num)d minutes, "
                         "or choose a new password.", minutes)), 429)
    response.headers["Retry-After"] = str(seconds)
    return response
