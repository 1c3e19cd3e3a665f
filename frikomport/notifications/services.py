"""Queue e-mails in the outbox, inside the caller's transaction.

Nothing is sent here: if the surrounding transaction rolls back, the message is gone
with it; if it commits, a worker delivers it (see :mod:`.delivery`).

E-mail templates live in ``templates/email/<name>.txt``; their first line is the
subject and the rest (after a blank line) is the body.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frikomport.inputs import clean_text, single_line
from frikomport.notifications.models import OutboxAttachment, OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def queue_email(
    session: Session,
    to: str,
    subject: str,
    body: str,
    attachments: tuple[Attachment, ...] = (),
) -> OutboxMessage:
    """Queue one message."""
    message = OutboxMessage(to_address=single_line(to))
    fill_message(message, subject, body, attachments)
    session.add(message)
    return message


def fill_message(message: OutboxMessage, subject: str, body: str,
                 attachments: tuple[Attachment, ...] = ()) -> None:
    """Set what a message says. Header values are made single-line here, whatever text
    they were built from, so no stored value can break (or inject) a header."""
    message.subject = single_line(subject)[:300]
    message.body_text = clean_text(body)
    message.attachments = [
        OutboxAttachment(filename=single_line(a.filename)[:200], content_type=a.content_type,
                         data=a.data)
        for a in attachments
    ]


def render_email(template: str, locale: str, **context) -> tuple[str, str]:
    """Render ``email/<template>.txt`` in ``locale``; return (subject, body)."""
    with force_locale(locale):
        text = render_template(f"email/{template}.txt", **context)
    subject, _, body = text.strip().partition("\n\n")
    return subject.strip(), body.strip() + "\n"


def queue_templated_email(
    session: Session,
    to: str,
    template: str,
    locale: str = "nb",
    attachments: tuple[Attachment, ...] = (),
    **context,
) -> OutboxMessage:
    subject, body = render_email(template, locale, **context)
    return queue_email(session, to, subject, body, attachments)


def status_counts(session: Session) -> dict[str, int]:
    """How many messages are pending, sent and failed (for /healthz and the operator)."""
    rows = session.execute(select(OutboxMessage.status, func.count())
                           .group_by(OutboxMessage.status)).all()
    return {status.value: 0 for status in OutboxStatus} | {s.value: n for s, n in rows}


def failed_messages(session: Session, limit: int = 200) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage)
                                .where(OutboxMessage.status == OutboxStatus.FAILED)
                                .order_by(OutboxMessage.id.desc()).limit(limit)))
