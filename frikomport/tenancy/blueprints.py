"""Blueprints mounted under /o/<slug>/: the organisation is loaded once per request."""

from __future__ import annotations

from flask import Blueprint, g

from frikomport.extensions import db
from frikomport.tenancy.scoping import get_organisation


def tenant_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint whose routes get ``g.organisation`` from the ``<slug>`` in the URL
    (404 for an unknown slug) and whose ``url_for`` calls fill in the current slug."""
    blueprint = Blueprint(name, import_name, url_prefix="/o/<slug>")

    @blueprint.url_value_preprocessor
    def load_organisation(_endpoint, values):
        g.organisation = get_organisation(db.session, values.pop("slug"))

    @blueprint.url_defaults
    def add_slug(_endpoint, values):
        if "slug" not in values and "organisation" in g:
            values["slug"] = g.organisation.slug

    return blueprint
