"""Why a registration changed state: stored as a fixed English code in its history, and
shown to the organiser in their own language (the history outlives any one language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

AWAITING_APPROVAL = "awaiting the organiser's approval"
AWAITING_EMAIL_CONFIRMATION = "awaiting e-mail confirmation"
EMAIL_CONFIRMED = "e-mail address confirmed"
CANCELLED_BY_ORGANISER = "cancelled by the organiser"
CANCELLED_BY_PARTICIPANT = "cancelled by the participant"
ACCOUNT_DELETED = "the participant's account was deleted"
CANCELLED_BY_LINK = "cancelled with the link in the e-mail"
PROMOTED = "promoted from the waiting list"

LABELS = {
    AWAITING_APPROVAL: _l("awaiting the organiser's approval"),
    AWAITING_EMAIL_CONFIRMATION: _l("awaiting e-mail confirmation"),
    EMAIL_CONFIRMED: _l("e-mail address confirmed"),
    CANCELLED_BY_ORGANISER: _l("cancelled by the organiser"),
    CANCELLED_BY_PARTICIPANT: _l("cancelled by the participant"),
    ACCOUNT_DELETED: _l("the participant's account was deleted"),
    CANCELLED_BY_LINK: _l("cancelled with the link in the e-mail"),
    PROMOTED: _l("promoted from the waiting list"),
}


def note_label(note: str) -> str:
    """The note in the reader's language (a note that is not a code is shown as written)."""
    return str(LABELS[note]) if note in LABELS else note
