"""Absolute URLs for links in e-mails, which are also built outside requests (CLI, worker)."""

from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """Build an absolute URL from the configured BASE_URL, not the request's Host header.

    Using BASE_URL everywhere means a spoofed Host header cannot plant a foreign domain in
    a password-reset link.
    """
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)
