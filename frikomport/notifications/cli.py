"""``flask outbox ...`` commands."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from frikomport.db import db
from frikomport.notifications.delivery import retry
from frikomport.notifications.models import OutboxMessage
from frikomport.notifications.worker import send_due_messages

outbox_cli = AppGroup("outbox", help="Deliver and inspect queued e-mails.")


@outbox_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running and poll for new messages.")
@click.option("--interval", default=5, show_default=True, help="Seconds between polls.")
def send_command(loop: bool, interval: int) -> None:
    """Send every e-mail that is due now (retrying failed ones with back-off)."""
    while True:
        report = send_due_messages(current_app._get_current_object())
        click.echo(f"sent={report.sent} retried={report.retried} failed={report.failed}")
        if not loop:
            return
        db.session.remove()
        time.sleep(interval)


@outbox_cli.command("retry")
@click.option("--failed", "include_failed", is_flag=True,
              help="Also send again messages that were given up on (status failed).")
def retry_command(include_failed: bool) -> None:
    """Make waiting messages due now; with --failed, requeue failed ones too."""
    count = retry(db.session, include_failed=include_failed)
    db.session.commit()
    click.echo(f"{count} message(s) queued for sending now.")


@outbox_cli.command("status")
def status_command() -> None:
    """Count messages per status."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    for status, count in sorted(rows):
        click.echo(f"{status}: {count}")
