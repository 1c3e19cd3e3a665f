"""A real SMTP receiver for the mail tests: aiosmtpd on 127.0.0.1, on a free port."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from frikomport.extensions import db

MAIL_FROM = "FriKomPort <noreply@kurs.example.org>"


class CountingHandler:
    """aiosmtpd handler: counts every accepted message by Message-ID and recipient."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries: Counter[str] = Counter()
        self.recipients: dict[str, list[str]] = {}
        self.received: list[EmailMessage] = []  # every accepted message, parsed
        self.refused = 0
        self.refuse = False  # answer DATA with 550 (a mailbox the server won't accept)
        self.delay = 0.0  # seconds per message, so concurrent senders really overlap
        # Hold the first messages until this many are being received at once (or
        # gate_timeout passes): sender processes that start at different speeds then
        # still all take part, and race from the same moment on.
        self.gate = 0
        self.gate_timeout = 30.0
        self.active = self.max_active = 0
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            with self.lock:
                self.refused += 1
            return "550 5.1.1 Mailbox unavailable"
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            deadline = time.monotonic() + self.gate_timeout
            while self.max_active < self.gate and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(self.delay)
        finally:
            with self.lock:
                self.active -= 1
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        msgid = parsed["Message-ID"]
        with self.lock:
            self.received.append(parsed)
            self.deliveries[msgid] += 1
            self.recipients.setdefault(msgid, []).extend(envelope.rcpt_tos)
        return "250 2.0.0 OK"

    def duplicates(self) -> dict[str, int]:
        return {msgid: n for msgid, n in self.deliveries.items() if n > 1}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_receiver():
    handler = CountingHandler()
    for attempt in range(5):
        handler.port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=handler.port,
                                ready_timeout=10)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):  # the port was taken in between: pick another
            if attempt == 4:
                raise
    try:
        yield handler
    finally:
        controller.stop()


def use_smtp(app, receiver: CountingHandler, **overrides) -> None:
    app.config.update({"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
                       "SMTP_PORT": receiver.port, "SMTP_STARTTLS": False,
                       "SMTP_USERNAME": "", "SMTP_TIMEOUT": 10, "MAIL_FROM": MAIL_FROM}
                      | overrides)


def outbox_cli(app, *args: str) -> str:
    """Run ``flask outbox <args>``; the session then sees what the command wrote."""
    result = app.test_cli_runner().invoke(args=["outbox", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    db.session.expire_all()
    return result.output
