"""Periodic upkeep: purges and expiries (the retention rules for personal data, login
sessions, invitations, rate-limit counters), finishing courses that have ended, and
reminding people of competences that run out.

Every job is idempotent and safe to run from several processes at once. The embedded
default runs them from a thread in the web process (``HOUSEKEEPING_IN_PROCESS``, on in
development); production installs run ``flask housekeeping run`` from cron, and may
also switch the thread on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.privacy import retention

log = logging.getLogger(__name__)


def _now(rule: Callable[[Session, datetime], int]) -> Callable[[Session], int]:
    """A retention rule (see :mod:`frikomport.privacy.retention`) applied as of now."""
    return lambda session: rule(session, utcnow())


def _login_sessions(session: Session) -> int:
    from frikomport.accounts.sessions import purge_expired

    return purge_expired(session)


def _invitations(session: Session) -> int:
    from frikomport.tenancy.invitations import purge_expired

    return purge_expired(session)


def _rate_limit_counters(session: Session) -> int:
    from frikomport.ratelimit.storage import purge_expired

    return purge_expired(session)


def _sso_attempts(session: Session) -> int:
    from frikomport.sso.flow import purge_expired

    return purge_expired(session)


def _finished_courses(session: Session) -> int:
    """Published courses that have ended become finished. Besides being true, this keeps
    the catalogue fast: its lists walk published courses in start order, and ended ones
    left published would be stepped over on every request, more of them every year."""
    from frikomport.courses.services import finish_past_courses

    return finish_past_courses(session)


def _competence_reminders(session: Session) -> int:
    """Reminders before a competence runs out (each sent once, so every round may try)."""
    from frikomport.competence.reminders import send_expiry_reminders

    return send_expiry_reminders(session)


JOBS: dict[str, Callable[[Session], int]] = {
    **{name: _now(rule) for name, rule in retention.RULES.items()},
    "expired login sessions": _login_sessions,
    "expired invitations": _invitations,
    "expired rate-limit counters": _rate_limit_counters,
    "expired single sign-on attempts": _sso_attempts,
    "finished courses": _finished_courses,
    "competence reminders": _competence_reminders,
}


def run_all(session: Session) -> dict[str, int]:
    """Run every job in its own transaction; return how many rows each removed or changed."""
    done = {}
    for name, job in JOBS.items():
        done[name] = job(session)
        session.commit()
        if done[name]:
            log.info("Housekeeping: %s: %d", name, done[name])
    return done


def _loop(app: Flask, stop: threading.Event) -> None:
    while not stop.wait(app.config["HOUSEKEEPING_SECONDS"]):
        with app.app_context():
            try:
                run_all(db.session)
            except Exception:  # keep the thread alive; the next round retries
                log.exception("Housekeeping round failed")
                db.session.rollback()
            finally:
                db.session.remove()


_lock = threading.Lock()


def ensure_started(app: Flask) -> threading.Event | None:
    """Start the housekeeping thread once per app object; return its stop event."""
    with _lock:
        if app.extensions.get("housekeeping"):
            return None
        stop = app.extensions["housekeeping"] = threading.Event()
    threading.Thread(target=_loop, args=(app, stop), name="housekeeping", daemon=True).start()
    return stop


housekeeping_cli = AppGroup("housekeeping", help="Purges and expiries.")


@housekeeping_cli.command("run")
def run_command() -> None:
    """Run every housekeeping job once (safe from cron, also beside the in-process one)."""
    for name, count in run_all(db.session).items():
        click.echo(f"{name}: {count}")
