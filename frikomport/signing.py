"""Signed, optionally expiring payloads for links sent by e-mail."""

from __future__ import annotations

from flask import current_app
from itsdangerous import URLSafeTimedSerializer


def serializer(purpose: str) -> URLSafeTimedSerializer:
    """A serializer whose signatures are valid only for this purpose (its own salt)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"frikomport:{purpose}")
