"""``flask privacy …``: retention of personal data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from frikomport.extensions import db
from frikomport.privacy import retention

privacy_cli = AppGroup("privacy", help="Personal data: retention and purging.")


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Apply every retention rule (idempotent; safe from cron and beside the in-process
    housekeeping, which applies the same rules)."""
    counts = retention.purge(db.session, dry_run=dry_run)
    db.session.commit()
    verb = "would be changed" if dry_run else "changed"
    for name, count in counts.items():
        click.echo(f"{name}: {count} {verb}")
