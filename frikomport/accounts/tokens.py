"""Signed, expiring tokens for links sent by e-mail (password reset, e-mail confirmation,
finishing a sign-up).

A reset token embeds a fingerprint of the current password hash and session nonce, so it
stops working as soon as it has been used (or the password changed another way).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired

from frikomport.accounts.models import User
from frikomport.signing import serializer

RESET = "password-reset"
CONFIRM = "email-confirm"
SIGNUP = "signup"
SIGNUP_FIELDS = ("email", "name", "org", "phone", "locale")


def _fingerprint(user: User) -> str:
    state = f"{user.password_hash or ''}|{user.session_nonce}|{user.email}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return serializer(RESET).dumps({"uid": user.id, "fp": _fingerprint(user)})


def make_confirm_token(user: User) -> str:
    return serializer(CONFIRM).dumps({"uid": user.id, "email": user.email})


def make_signup_token(*, email: str, name: str, organisation_id: int, phone: str,
                      locale: str) -> str:
    """The whole sign-up travels in the link: nothing is stored until the address is
    proven by opening it."""
    return serializer(SIGNUP).dumps({"email": email, "name": name, "org": organisation_id,
                                     "phone": phone, "locale": locale})


def load_signup(token: str, max_age: int) -> dict:
    data, _signed_at = _loads(SIGNUP, token, max_age)
    if not isinstance(data, dict) or set(data) != set(SIGNUP_FIELDS):
        raise InvalidToken(expired=False)
    return data


class InvalidToken(Exception):
    def __init__(self, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _loads(purpose: str, token: str, max_age: int):
    """The payload and when it was signed (aware UTC), or InvalidToken."""
    try:
        return serializer(purpose).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise InvalidToken(expired=True) from exc
    except BadSignature as exc:
        raise InvalidToken(expired=False) from exc


def load(purpose: str, token: str, max_age: int) -> tuple[dict, datetime]:
    """Return the token's payload and when it was signed (aware UTC)."""
    data, signed_at = _loads(purpose, token, max_age)
    if not isinstance(data, dict) or "uid" not in data:
        raise InvalidToken(expired=False)
    return data, signed_at


def reset_token_matches(user: User, data: dict) -> bool:
    return data.get("fp") == _fingerprint(user)
