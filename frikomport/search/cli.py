"""``flask search rebuild | process | health``."""

from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup

from frikomport.extensions import db
from frikomport.search import indexer
from frikomport.search.service import backend

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the index from the database (into a new index, swapped in atomically)."""
    started = time.perf_counter()
    count = indexer.rebuild(db.session, backend())
    click.echo(f"Indexed {count} courses in {time.perf_counter() - started:.1f} s.")


@search_cli.command("process")
@click.option("--loop", is_flag=True, help="Keep running (the single indexer process).")
@click.option("--interval", default=2.0, show_default=True)
def process_command(loop: bool, interval: float) -> None:
    """Apply queued index changes."""
    while True:
        handled = indexer.process_jobs(db.session, backend())
        if handled or not loop:
            click.echo(f"{handled} change(s) applied.")
        if not loop:
            return
        db.session.remove()
        time.sleep(interval)


@search_cli.command("health")
def health_command() -> None:
    click.echo(json.dumps(backend().health(), indent=2, default=str))
