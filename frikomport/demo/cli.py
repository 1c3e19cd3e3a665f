"""``flask demo seed``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from frikomport.demo.seed import DEMO_PASSWORD, seed
from frikomport.extensions import db

demo_cli = AppGroup("demo", help="Demo data for trying the portal.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Load the Kongsberg region demo tenants and accounts (safe to run again)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Refusing to load demo accounts in production.")
    accounts = seed(db.session)
    db.session.commit()
    click.echo(f"Demo data loaded. Every demo account has the password: {DEMO_PASSWORD}\n")
    click.echo(f"{'Role':<12} {'Organisation':<24} E-mail")
    for account in accounts:
        click.echo(f"{account.role:<12} {account.organisation:<24} {account.email}")
