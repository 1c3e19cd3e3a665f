"""Signed links in registration e-mails: cancel a registration, confirm a guest's address."""

from __future__ import annotations

from itsdangerous import BadSignature

from frikomport.registrations.models import Registration
from frikomport.signing import serializer

CANCEL = "registration-cancel"
GUEST_CONFIRM = "guest-confirm"


def make(purpose: str, registration: Registration) -> str:
    return serializer(purpose).dumps({"rid": registration.id, "email": registration.email})


def load(purpose: str, token: str, max_age: int | None = None) -> dict | None:
    """The payload, or None for a forged, malformed or expired token."""
    try:
        data = serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and "rid" in data else None
