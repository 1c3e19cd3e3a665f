"""``flask competence remind``: the reminders before a competence runs out (from cron;
housekeeping sends them too). Importing this module also registers the reminders'
e-mail renderers, so every process that sends mail can write them."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from frikomport.competence.reminders import send_expiry_reminders
from frikomport.extensions import db

competence_cli = AppGroup("competence", help="Competence records.")


@competence_cli.command("remind")
def remind_command() -> None:
    """Queue the reminders of competences that run out (each is sent once)."""
    count = send_expiry_reminders(db.session)
    db.session.commit()
    click.echo(f"{count} reminder(s) queued.")
