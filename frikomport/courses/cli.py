"""``flask courses ...`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from frikomport.courses.services import finish_past_courses
from frikomport.extensions import db

courses_cli = AppGroup("courses", help="Course maintenance.")


@courses_cli.command("finish-past")
def finish_past_command() -> None:
    """Mark published courses whose last session has ended as finished (run daily)."""
    count = finish_past_courses(db.session)
    db.session.commit()
    click.echo(f"{count} course(s) marked as finished.")
