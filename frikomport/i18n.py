"""Language choice: an explicit choice in this session, then the user's setting, then Bokmål."""

from __future__ import annotations

from flask import current_app, has_request_context, session
from flask_login import current_user

DEFAULT_LOCALE = "nb"


def app_languages() -> dict[str, str]:
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    if not has_request_context():  # CLI commands and workers
        return DEFAULT_LOCALE
    languages = app_languages()
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return DEFAULT_LOCALE
