"""``flask sso``: the operator's single sign-on commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from frikomport.extensions import db
from frikomport.sso.settings import rotate_secrets

sso_cli = AppGroup("sso", help="Single sign-on (OpenID Connect providers).")


@sso_cli.command("rotate-secrets")
def rotate_secrets_command():
    """Encrypt every provider's client secret again under the first SSO_SECRET_KEYS key
    (after putting a new key first); the old keys can then be removed."""
    count = rotate_secrets(db.session)
    db.session.commit()
    click.echo(f"{count} client secret(s) encrypted with the newest key.")
