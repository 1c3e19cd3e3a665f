"""Deliver due outbox messages, with retries and exponential back-off.

Several workers may run at once (one per app server): on PostgreSQL each batch is
claimed with ``FOR UPDATE SKIP LOCKED`` so a message is handed to one worker only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.db import utcnow
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.notifications.transports import Transport, build_mime

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=2)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2 min, 4 min … capped at two hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)


def _claim_due(session: Session, limit: int) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def deliver_due(session: Session, transport: Transport, sender: str,
                max_attempts: int, batch_size: int = 10) -> DeliveryReport:
    """Send one batch of due messages and commit their new state.

    Rows stay locked until the commit, so a small batch keeps the window in which a
    crash could cause a re-send (at-least-once delivery) short.
    """
    report = DeliveryReport()
    for message in _claim_due(session, batch_size):
        _deliver_one(message, transport, sender, max_attempts, report)
    session.commit()
    return report


def _deliver_one(message: OutboxMessage, transport: Transport, sender: str,
                 max_attempts: int, report: DeliveryReport) -> None:
    message.attempts += 1
    try:
        transport.send(build_mime(message, sender))
    except Exception as exc:  # any transport failure is retried later
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= max_attempts:
            message.status = OutboxStatus.FAILED
            report.failed += 1
            log.error("Gave up on e-mail %s to %s: %s", message.id, message.to_address, exc)
        else:
            message.next_attempt_at = utcnow() + retry_delay(message.attempts)
            report.retried += 1
            log.warning("E-mail %s failed (attempt %s): %s", message.id, message.attempts, exc)
        return
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow()
    message.last_error = ""
    report.sent += 1


def deliver_all_due(session: Session, transport: Transport, sender: str,
                    max_attempts: int) -> DeliveryReport:
    """Drain everything that is due now (used by the CLI and the in-process worker)."""
    total = DeliveryReport()
    while True:
        report = deliver_due(session, transport, sender, max_attempts)
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        if report.sent + report.retried + report.failed == 0:
            return total
