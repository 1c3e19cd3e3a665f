"""The providers' client secrets, encrypted at rest with keys from the configuration.

A copy of the database alone does not give away a municipality's client secret: it is
stored as a Fernet token (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the
operator's ``SSO_SECRET_KEYS``. The first key encrypts; every key decrypts, so a key is
rotated by putting a new one first and running ``flask sso rotate-secrets``.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _

from frikomport.sso.errors import ProviderUnavailable


def _keys() -> list[bytes]:
    config = current_app.config
    keys = [key.encode() for key in config.get("SSO_SECRET_KEYS", ())]
    if keys:
        return keys
    if config.get("ENV_NAME") == "production":
        raise ProviderUnavailable(_("Single sign-on cannot be set up yet: the operator has "
                                    "not set SSO_SECRET_KEYS."))
    # Development and tests: a key of its own derived from SECRET_KEY.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"frikomport sso client secrets").derive(config["SECRET_KEY"].encode())
    return [base64.urlsafe_b64encode(derived)]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ProviderUnavailable(_("The saved client secret cannot be read with the keys "
                                    "the portal has now. An administrator must enter it "
                                    "again.")) from exc


def rotate(token: str) -> str:
    """The same secret, encrypted under the first key."""
    return _fernet().rotate(token.encode()).decode()
