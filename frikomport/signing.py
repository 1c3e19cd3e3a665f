"""Signed, optionally expiring payloads for links sent by e-mail, and the digest under
which secrets (login sessions, invitation links) and rate-limit keys are stored."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import URLSafeTimedSerializer


def serializer(purpose: str) -> URLSafeTimedSerializer:
    """A serializer whose signatures are valid only for this purpose (its own salt)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"frikomport:{purpose}")


def digest(secret: str) -> str:
    """SHA-256 hex digest: what is stored instead of a secret, so that a copy of the
    database cannot be used to log in or accept an invitation."""
    return hashlib.sha256(secret.encode()).hexdigest()
