"""Deliver due outbox messages, with retries and exponential back-off.

Several senders may run at once (the in-process sender of every web worker, and
``flask outbox send`` processes on several hosts). Each message is *claimed* before it
is sent, with one conditional UPDATE that only succeeds if nobody holds a live lease
on it — checked by the row count, which is atomic on SQLite and PostgreSQL alike. So
each message is handed to one sender; if that sender dies mid-delivery, its lease runs
out and another one retries (the Message-ID stays the same, so a receiver can drop
a rare duplicate).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from frikomport.db import is_lock_conflict, utcnow
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.notifications.rendering import render_or_drop
from frikomport.notifications.transports import Transport, build_mime

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=2)
LEASE = timedelta(minutes=10)  # comfortably longer than an SMTP conversation


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2 min, 4 min … capped at two hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)


def _claimable(now):
    return (OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))


def due_ids(session: Session, limit: int) -> list[int]:
    ids = list(session.scalars(select(OutboxMessage.id).where(*_claimable(utcnow()))
                               .order_by(OutboxMessage.id).limit(limit)))
    session.commit()  # end the read, so the claims below see the newest data
    return ids


def claim(session: Session, message_id: int, sender_id: str) -> bool:
    """Take the message for this sender; False if another sender has it (or it is done)."""
    now = utcnow()
    try:
        result = session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, *_claimable(now))
            .values(claimed_by=sender_id, claimed_until=now + LEASE,
                    attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        session.commit()
    except OperationalError as error:
        session.rollback()
        if is_lock_conflict(error):
            return False
        raise
    return result.rowcount == 1


def deliver_due(session: Session, transport: Transport, sender: str,
                max_attempts: int, batch_size: int = 10) -> DeliveryReport:
    """Claim and send one batch of due messages."""
    report = DeliveryReport()
    sender_id = secrets.token_hex(8)
    for message_id in due_ids(session, batch_size):
        if claim(session, message_id, sender_id):
            message = session.get(OutboxMessage, message_id, populate_existing=True)
            if _written(session, message, report):
                _deliver_one(message, transport, sender, max_attempts, report)
            session.commit()
    return report


def _written(session: Session, message: OutboxMessage, report: DeliveryReport) -> bool:
    """Render a deferred message (see :mod:`.rendering`); False if there is nothing to
    send: it was dropped, or it cannot be written (the operator sees it failed, and
    ``flask outbox retry --failed`` renders it again after a fix)."""
    try:
        return render_or_drop(session, message)
    except Exception as exc:  # a template or renderer bug must not stop the other messages
        log.exception("Cannot write e-mail %s", message.id)
        message.claimed_by = message.claimed_until = None
        _give_up(message, f"Cannot write the message: {type(exc).__name__}: {exc}", report)
        return False


def _deliver_one(message: OutboxMessage, transport: Transport, sender: str,
                 max_attempts: int, report: DeliveryReport) -> None:
    message.claimed_by = message.claimed_until = None
    try:
        mime = build_mime(message, sender)
    except (ValueError, TypeError) as exc:  # the message itself is broken: retrying won't help
        _give_up(message, f"Cannot build the message: {exc}", report)
        return
    try:
        transport.send(mime)
    except Exception as exc:  # any transport failure is retried later
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= max_attempts:
            _give_up(message, message.last_error, report)
        else:
            message.next_attempt_at = utcnow() + retry_delay(message.attempts)
            report.retried += 1
            log.warning("E-mail %s failed (attempt %s): %s", message.id, message.attempts, exc)
        return
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow()
    message.last_error = ""
    report.sent += 1


def _give_up(message: OutboxMessage, error: str, report: DeliveryReport) -> None:
    message.status = OutboxStatus.FAILED
    message.last_error = error[:2000]
    report.failed += 1
    log.error("Gave up on e-mail %s to %s: %s", message.id, message.to_address, error)


def deliver_all_due(session: Session, transport: Transport, sender: str,
                    max_attempts: int) -> DeliveryReport:
    """Drain everything that is due now (used by the CLI and the in-process worker)."""
    total = DeliveryReport()
    while True:
        report = deliver_due(session, transport, sender, max_attempts)
        total.add(report)
        if report.handled == 0:
            return total


def retry(session: Session, include_failed: bool = False,
          message_ids: list[int] | None = None) -> int:
    """Make messages due now: pending ones waiting for their back-off, and (with
    ``include_failed``) failed ones, which get a fresh set of attempts. A message a
    sender is delivering right now is left alone."""
    now = utcnow()
    chosen = [OutboxMessage.id.in_(message_ids)] if message_ids is not None else []
    unclaimed_pending = (OutboxMessage.status == OutboxStatus.PENDING,
                         or_(OutboxMessage.claimed_until.is_(None),
                             OutboxMessage.claimed_until < now))
    count = session.execute(
        update(OutboxMessage).where(*unclaimed_pending, *chosen)
        .values(next_attempt_at=now).execution_options(synchronize_session=False)).rowcount
    if include_failed:
        count += session.execute(
            update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED, *chosen)
            .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
                    claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)).rowcount
    return count
