"""``flask users ...`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from frikomport.accounts.services import create_site_admin
from frikomport.errors import DomainError
from frikomport.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.option("--email", prompt=True, help="E-mail address of the site administrator.")
@click.option("--name", prompt=True, help="Full name.")
@click.password_option(help="Password (asked for twice if not given).")
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create a site administrator (or promote an existing account)."""
    try:
        user = create_site_admin(db.session, email=email, name=name, password=password)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{user.email} is now a site administrator.")
