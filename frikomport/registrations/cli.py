"""``flask reminders send`` and ``flask registrations release-reserved`` (run from cron)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.privacy import retention
from frikomport.registrations.services import release_reserved_seats, send_reminders

reminders_cli = AppGroup("reminders", help="Course reminders.")
registrations_cli = AppGroup("registrations", help="Registration maintenance.")


@reminders_cli.command("send")
@click.option("--days", type=int, default=None,
              help="Remind courses starting within this many days (default REMINDER_DAYS).")
def send_command(days: int | None) -> None:
    """Queue reminder e-mails (each participant is reminded once)."""
    count = send_reminders(db.session, days or current_app.config["REMINDER_DAYS"])
    db.session.commit()
    click.echo(f"{count} reminder(s) queued.")


@registrations_cli.command("release-reserved")
def release_command() -> None:
    """Give seats whose reservation for the host has run out to the waiting list."""
    count = release_reserved_seats(db.session)
    db.session.commit()
    click.echo(f"{count} registration(s) moved from the waiting list.")


@registrations_cli.command("purge-unconfirmed")
def purge_unconfirmed_command() -> None:
    """Delete guest registrations never confirmed within GUEST_CONFIRM_HOURS."""
    count = retention.unconfirmed_guests(db.session, utcnow())
    db.session.commit()
    click.echo(f"{count} unconfirmed guest registration(s) deleted.")
