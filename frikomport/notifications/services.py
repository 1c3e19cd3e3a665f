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
from sqlalchemy.orm import Session

from frikomport.notifications.models import OutboxAttachment, OutboxMessage


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
    message = OutboxMessage(to_address=to, subject=subject.strip(), body_text=body)
    message.attachments = [
        OutboxAttachment(filename=a.filename, content_type=a.content_type, data=a.data)
        for a in attachments
    ]
    session.add(message)
    return message


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
