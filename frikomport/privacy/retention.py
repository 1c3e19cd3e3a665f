"""Retention: how long personal data is kept, and the purge that applies the rules.

Each rule is a function ``(session, now) -> int`` that returns how many rows it changed
or deleted; the periods come from the app config (``RETENTION_*``,
``GUEST_CONFIRM_HOURS``). Every rule selects only rows that still hold what it removes,
so running it again changes nothing: the rules are idempotent and safe to run from cron
and from the in-process housekeeping at the same time. The caller commits.

What is kept for statistics: a registration of a long-ended course stays as a row with
its course, organisation, employer organisation, state and dates; only what says *who*
it was is emptied.
"""

from __future__ import annotations

import calendar
import ipaddress
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, and_, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.audit.models import AuditEvent
from frikomport.billing.models import InvoiceLine
from frikomport.competence.models import Certificate
from frikomport.competence.records import today
from frikomport.courses.models import Course
from frikomport.db import utcnow
from frikomport.errors import DomainError
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.privacy.anonymous import ANONYMOUS, REMOVED, replace_in_strings
from frikomport.privacy.deletion import delete_person
from frikomport.registrations.models import Registration, RegistrationEvent, RegistrationState

log = logging.getLogger(__name__)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (31 March − 1 → 28/29 Feb)."""
    year, month0 = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def _setting(name: str) -> int:
    return current_app.config[name]


def _of_courses_ended_before(cutoff: datetime):
    """Registrations of courses whose last session ended before ``cutoff`` (a course
    without sessions has not ended)."""
    return Registration.course_id.in_(select(Course.id).where(Course.ends_at < cutoff))


def _execute(session: Session, statement) -> int:
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


# Rules ---------------------------------------------------------------------------------

def unconfirmed_guests(session: Session, now: datetime) -> int:
    """Guest registrations never confirmed within GUEST_CONFIRM_HOURS are deleted (they
    hold no seat and block nobody, but they are personal data kept for no purpose).
    Anonymised registrations (no address at all) look alike but are statistics, and
    stay."""
    cutoff = now - timedelta(hours=_setting("GUEST_CONFIRM_HOURS"))
    return _execute(session, delete(Registration).where(
        Registration.user_id.is_(None), Registration.email_confirmed_at.is_(None),
        Registration.email != "", Registration.state == RegistrationState.PENDING,
        Registration.created_at < cutoff))


def comments_and_phones(session: Session, now: datetime) -> int:
    """Comments and phone numbers are only needed to run the course: emptied
    RETENTION_COMMENT_MONTHS after it ended. (Registration events hold no free text
    from participants, only the portal's own notes; see :func:`participants`.)"""
    cutoff = months_before(now, _setting("RETENTION_COMMENT_MONTHS"))
    return _execute(session, update(Registration).where(
        _of_courses_ended_before(cutoff),
        or_(Registration.comment != "", Registration.phone != ""),
    ).values(comment="", phone=""))


def participants(session: Session, now: datetime) -> int:
    """Registrations of courses that ended RETENTION_PARTICIPANT_YEARS ago are anonymised.

    Kept: course, organisation, employer organisation, state, dates (the statistics).
    Emptied: the account link, name, e-mail, phone, comment, employer name, and the
    e-mail confirmation time. Without both an account and a confirmed address a row is
    outside the "one active registration per address" index, so any number of
    anonymised rows can share the empty address. Their history keeps its state changes
    but loses who made them and the notes.
    """
    cutoff = months_before(now, 12 * _setting("RETENTION_PARTICIPANT_YEARS"))
    ended = _of_courses_ended_before(cutoff)
    _execute(session, update(RegistrationEvent).where(
        RegistrationEvent.registration_id.in_(select(Registration.id).where(ended)),
        or_(RegistrationEvent.actor_id.is_not(None), RegistrationEvent.note != ""),
    ).values(actor_id=None, note=""))
    not_yet_anonymous = or_(*(
        getattr(Registration, column).is_not(None) if value is None
        else getattr(Registration, column) != value
        for column, value in ANONYMOUS.items()))
    return _execute(session, update(Registration).where(ended, not_yet_anonymous)
                    .values(**ANONYMOUS))


def guest_certificates(session: Session, now: datetime) -> int:
    """A guest's course certificate (no account: ``user_id`` NULL) names them, so it goes
    when their registration is anonymised (:func:`participants`): its course ended
    RETENTION_PARTICIPANT_YEARS ago. One without a registration (revoked, or the course
    deleted) goes by its own copy of the last day. Members' certificates stay with their
    account, and go when it is deleted."""
    cutoff = months_before(now, 12 * _setting("RETENTION_PARTICIPANT_YEARS"))
    ended = select(Registration.id).where(_of_courses_ended_before(cutoff))
    return _execute(session, delete(Certificate).where(
        Certificate.user_id.is_(None),
        or_(Certificate.registration_id.in_(ended), Certificate.last_day < today(cutoff))))


def outbox_messages(session: Session, now: datetime) -> int:
    """Sent messages RETENTION_OUTBOX_DAYS after sending, and failed ones as long after
    their last attempt, are deleted with their attachments.

    Deleted rather than emptied: a message is its address, subject, body (with
    personal links) and attachments (.ics files); with those gone nothing useful is
    left, and an emptied failed message would still offer a "retry" that sends nothing
    to nobody. Pending messages are never touched. Attachments go by ON DELETE CASCADE.
    """
    cutoff = now - timedelta(days=_setting("RETENTION_OUTBOX_DAYS"))
    return _execute(session, delete(OutboxMessage).where(or_(
        and_(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < cutoff),
        # A failed message keeps the due time of its last attempt.
        and_(OutboxMessage.status == OutboxStatus.FAILED,
             OutboxMessage.next_attempt_at < cutoff),
    )))


def audit_addresses(session: Session, now: datetime) -> int:
    """E-mail and IP addresses in audit details are replaced RETENTION_AUDIT_MONTHS after
    the event; who did what to which object, and when, stays.

    Values are recognised by what they look like, not by their key, so a new caller of
    ``audit.services.record`` cannot leak an address past the retention period.
    """
    cutoff = months_before(now, _setting("RETENTION_AUDIT_MONTHS"))
    count = 0
    for event in session.scalars(select(AuditEvent).where(
            AuditEvent.created_at < cutoff, _may_hold_address(AuditEvent.details))):
        cleaned = scrub(event.details)
        if cleaned != event.details:
            event.details = cleaned
            count += 1
    return count


# Addresses in audit details ---------------------------------------------------------------

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_IP_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*(?![\w:])")


def _may_hold_address(details):
    """A cheap SQL pre-filter that every e-mail or IP address in the JSON text passes:
    an @, a dotted quad, or an IPv6 address (either with "::" or with seven colons)."""
    text = cast(details, String)
    return or_(text.like("%@%"), text.like("%.%.%.%"), text.like("%::%"),
               text.like("%:%:%:%:%:%:%:%"))


def _ip_or_same(match: re.Match) -> str:
    candidate = match.group().rstrip(".")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return match.group()
    return REMOVED + match.group()[len(candidate):]


def scrub(value):
    """``value`` (audit details: JSON) with every e-mail and IP address replaced."""
    return replace_in_strings(
        value, lambda text: _IP_CANDIDATE.sub(_ip_or_same, _EMAIL.sub(REMOVED, text)))


def disabled_accounts(session: Session, now: datetime) -> int:
    """Accounts disabled RETENTION_DISABLED_MONTHS ago are deleted as if their person had
    deleted them. The last administrator of an organisation is skipped (and logged):
    the organisation must get another one first."""
    cutoff = months_before(now, _setting("RETENTION_DISABLED_MONTHS"))
    count = 0
    for user in session.scalars(select(User).where(
            User.is_enabled.is_(False), User.disabled_at < cutoff)).all():
        try:
            with session.begin_nested():
                delete_person(session, None, user)
        except DomainError as refused:
            log.warning("Retention: disabled account %s kept: %s", user.id, refused.message)
            continue
        count += 1
    return count


def invoice_lines(session: Session, now: datetime) -> int:
    """Invoice lines name the participant because the accounts must (bokføringsloven
    § 13: five years after the end of the financial year). ``RETENTION_INVOICE_YEARS``
    after the end of the year a line was invoiced in, its participant name, the person's
    reference and who marked it are removed; amount, course, buyer, invoice number and
    date stay for the accounts' totals and the statistics."""
    first_kept_year = now.year - _setting("RETENTION_INVOICE_YEARS")
    cutoff = now.replace(year=first_kept_year, month=1, day=1, hour=0, minute=0, second=0,
                         microsecond=0)
    return _execute(session, update(InvoiceLine).where(
        InvoiceLine.invoiced_at < cutoff,
        or_(InvoiceLine.participant_name != "", InvoiceLine.reference != "",
            InvoiceLine.invoiced_by_id.is_not(None)),
    ).values(participant_name="", reference="", invoiced_by_id=None))


# Purge -----------------------------------------------------------------------------------

RULES: dict[str, Callable[[Session, datetime], int]] = {
    "unconfirmed guest registrations": unconfirmed_guests,
    "registration comments and phone numbers": comments_and_phones,
    "participants of ended courses anonymised": participants,
    "guest certificates of anonymised registrations": guest_certificates,
    "outbox messages": outbox_messages,
    "audit-log addresses": audit_addresses,
    "disabled accounts deleted": disabled_accounts,
    "invoice lines past the accounting period": invoice_lines,
}


def purge(session: Session, now: datetime | None = None,
          dry_run: bool = False) -> dict[str, int]:
    """Apply every rule; return how many rows each changed or deleted. The caller commits.

    A dry run applies the very same statements inside a savepoint and rolls it back, so
    its counts cannot drift from what a real run does.
    """
    now = now or utcnow()
    savepoint = session.begin_nested() if dry_run else None
    counts = {name: rule(session, now) for name, rule in RULES.items()}
    if savepoint is not None:
        savepoint.rollback()
    for name, count in counts.items():
        log.info("Retention%s: %s: %d", " (dry run)" if dry_run else "", name, count)
    return counts
