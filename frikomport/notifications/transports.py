"""Ways to hand an e-mail over: SMTP in production, a folder or the log in development."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Protocol

from frikomport.notifications.models import OutboxMessage

log = logging.getLogger(__name__)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def message_id(message: OutboxMessage, sender: str) -> str:
    """The same Message-ID on every attempt, so receivers can drop a duplicate that a
    retry sends after a lost SMTP reply. The creation time keeps ids unique across
    databases that reuse row ids."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "frikomport.invalid"
    return f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"


def build_mime(message: OutboxMessage, sender: str) -> EmailMessage:
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False)
    mime["Message-ID"] = message_id(message, sender)
    mime.set_content(message.body_text)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mime


class SMTPTransport:
    def __init__(self, host: str, port: int, username: str, password: str,
                 starttls: bool, timeout: int):
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class FolderTransport:
    """Writes each message as an .eml file (and logs it) — for development."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        msgid = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        path = self.folder / f"{msgid}.eml"
        path.write_bytes(bytes(message))
        log.info("E-mail to %s (%s) written to %s", message["To"], message["Subject"], path)


class LogTransport:
    def send(self, message: EmailMessage) -> None:
        log.info("E-mail to %s: %s\n%s", message["To"], message["Subject"],
                 message.get_body(("plain",)).get_content())


def transport_from_config(config) -> Transport:
    backend = config["MAIL_BACKEND"]
    if backend == "smtp":
        return SMTPTransport(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_USERNAME"],
                             config["SMTP_PASSWORD"], config["SMTP_STARTTLS"],
                             config["SMTP_TIMEOUT"])
    if backend == "folder":
        return FolderTransport(config["MAIL_FOLDER"])
    if backend == "log":
        return LogTransport()
    raise ValueError(f"Unknown MAIL_BACKEND {backend!r} (use smtp, folder or log)")
