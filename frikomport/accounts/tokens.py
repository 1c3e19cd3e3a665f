"""Signed, expiring tokens for links sent by e-mail (password reset, e-mail confirmation).

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


def _fingerprint(user: User) -> str:
    state = f"{user.password_hash or ''}|{user.session_nonce}|{user.email}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return serializer(RESET).dumps({"uid": user.id, "fp": _fingerprint(user)})


def make_confirm_token(user: User) -> str:
    return serializer(CONFIRM).dumps({"uid": user.id, "email": user.email})


class InvalidToken(Exception):
    def __init__(self, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def load(purpose: str, token: str, max_age: int) -> tuple[dict, datetime]:
    """Return the token's payload and when it was signed (aware UTC)."""
    try:
        data, signed_at = serializer(purpose).loads(token, max_age=max_age,
                                                     return_timestamp=True)
    except SignatureExpired as exc:
        raise InvalidToken(expired=True) from exc
    except BadSignature as exc:
        raise InvalidToken(expired=False) from exc
    if not isinstance(data, dict) or "uid" not in data:
        raise InvalidToken(expired=False)
    return data, signed_at


def reset_token_matches(user: User, data: dict) -> bool:
    return data.get("fp") == _fingerprint(user)
