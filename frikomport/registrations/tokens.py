"""Signed links in registration e-mails: cancel a registration, confirm a guest's address."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from frikomport.registrations.models import Registration

CANCEL = "registration-cancel"
GUEST_CONFIRM = "guest-confirm"
GUEST_CONFIRM_MAX_AGE = 48 * 3600


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"frikomport:{purpose}")


def make(purpose: str, registration: Registration) -> str:
    return _serializer(purpose).dumps({"rid": registration.id, "email": registration.email})


def load(purpose: str, token: str, max_age: int | None = None) -> dict | None:
    """The payload, or None for a forged, malformed or expired token."""
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and "rid" in data else None
