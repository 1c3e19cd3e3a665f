"""Who sees which language (språklova: Nynorsk municipalities serve their staff in Nynorsk).

Pages, in order: the language chosen in this session (a logged-in person's choice is also
saved, and a visitor's survives logging in); the person's saved choice; on pages under
``/o/<slug>/`` that organisation's written form; the written form of the person's own
organisation; the browser's ``Accept-Language``; Bokmål.

E-mails go to people who are not looking at a page, so the request does not count: the
recipient's saved choice, else their organisation's written form, else that of the
organisation hosting the course (for guests), else Bokmål.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

DEFAULT_LOCALE = "nb"
# Browser language tags that mean one of ours: "no" is Norwegian without a written form.
BROWSER_ALIASES = {"no": "nb", "nb": "nb", "nn": "nn", "en": "en"}


def app_languages() -> dict[str, str]:
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    if not has_request_context():  # CLI commands and workers
        return DEFAULT_LOCALE
    return _first_known(_page_candidates()) or DEFAULT_LOCALE


def _page_candidates():
    user = current_user if current_user.is_authenticated else None
    yield session.get("locale")  # chosen in this session (saved too, when logged in)
    yield user.locale if user else None
    organisation = g.get("organisation")  # set for pages under /o/<slug>/
    yield organisation.language if organisation is not None else None
    home = user.home_organisation if user else None
    yield home.language if home is not None else None
    yield _browser_language()


def _browser_language() -> str | None:
    """The browser's most wanted language among ours (nb, nn, en; "no" counts as nb)."""
    for tag, _quality in request.accept_languages:
        code = BROWSER_ALIASES.get(tag.lower().replace("_", "-").split("-")[0])
        if code in app_languages():
            return code
    return None


def language_choices() -> list[tuple[str, str]]:
    """(code, name) of the portal's languages, each named in itself: choices for forms."""
    return list(app_languages().items())


def recipient_locale(user=None, host=None) -> str:
    """The language of an e-mail to ``user`` (None for a guest) about something hosted by
    the organisation ``host``."""
    home = user.home_organisation if user is not None else None
    return _first_known([user.locale if user is not None else None,
                         home.language if home is not None else None,
                         host.language if host is not None else None]) or DEFAULT_LOCALE


def _first_known(candidates) -> str | None:
    languages = app_languages()
    return next((code for code in candidates if code in languages), None)
