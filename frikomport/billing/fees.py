"""Which of a course's fees applies to whom, when it is fixed, and what is charged.

A course has three fees (øre): one for the host organisation's employees, one for the
employees of the other organisations in the portal, one for guests. The fee that applies
is fixed on the registration when it gets a seat, so a later price change never changes
what someone agreed to pay. Charged are: a seat that was kept (confirmed or attended), a
no-show when the course charges no-shows, and a self-cancellation after the course's
free cancellation date.

Plain functions over course and registration objects: no queries, no imports of the
registration package (it calls these), so the rules can be read and tested alone.
"""

from __future__ import annotations

from datetime import datetime

HOST, REGION, GUEST = "host", "region", "guest"
KINDS = (HOST, REGION, GUEST)
KEPT_STATES = ("confirmed", "attended")  # the seat was had: charged like attendance
MAX_FEE_ORE = 100_000_000  # one million kroner: more is a typing mistake


def kind_for(course, employer_organisation_id: int | None, guest: bool) -> str:
    """Which fee a person pays: a guest's, the host's own, or the region's."""
    if guest:
        return GUEST
    return HOST if employer_organisation_id == course.organisation_id else REGION


def fee_of(course, kind: str) -> int:
    return {HOST: course.fee_host_ore, REGION: course.fee_region_ore,
            GUEST: course.fee_guest_ore}[kind]


def fee_for_user(course, user) -> int | None:
    """What a logged-in member would pay now (their home organisation decides); None
    for a visitor, who is shown every fee."""
    if not getattr(user, "is_authenticated", False):
        return None
    employer = user.employer
    return fee_of(course, kind_for(course, employer.id if employer else None,
                                   guest=employer is None))


def fix_fee(registration) -> None:
    """Fix the fee on a registration that gets a seat (once: kept if already fixed)."""
    if registration.fee_ore is not None:
        return
    guest = registration.user_id is None and registration.user is None  # may be unflushed
    kind = kind_for(registration.course, registration.employer_organisation_id, guest)
    registration.fee_kind = kind
    registration.fee_ore = fee_of(registration.course, kind)


def late_cancellation(registration, now: datetime) -> bool:
    """Is a self-cancellation now charged? Only a seat with a fee, after the date."""
    deadline = registration.course.free_cancellation_until
    return bool(deadline and now >= deadline and registration.fee_ore
                and registration.state.value in KEPT_STATES)


def is_charged(registration) -> bool:
    """Does this registration owe its fee?"""
    if not registration.fee_ore:
        return False
    state = registration.state.value
    if state in KEPT_STATES:
        return True
    if state == "no_show":
        return registration.course.charge_no_shows
    return state == "cancelled" and registration.charged_cancellation
