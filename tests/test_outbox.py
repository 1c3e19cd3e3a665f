"""E-mails are written with the change and delivered by a worker with retries."""

from datetime import timedelta
from email import message_from_bytes

import pytest
from sqlalchemy import select

from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.notifications.delivery import deliver_all_due, retry_delay
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.notifications.services import Attachment, queue_email
from frikomport.notifications.transports import FolderTransport, transport_from_config
from frikomport.notifications.worker import ensure_started
from tests.helpers import outbox

SENDER = "FriKomPort <noreply@example.org>"


class RecordingTransport:
    def __init__(self, failures: int = 0):
        self.failures = failures
        self.sent = []

    def send(self, message):
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("SMTP server is down")
        self.sent.append(message)


def test_message_is_part_of_the_callers_transaction(app):
    queue_email(db.session, "a@example.org", "Hei", "Tekst")
    db.session.rollback()
    assert outbox() == []
    queue_email(db.session, "a@example.org", "Hei", "Tekst")
    db.session.commit()
    assert [m.status for m in outbox()] == [OutboxStatus.PENDING]


def test_delivery_sends_with_attachment_and_marks_sent(app):
    queue_email(db.session, "a@example.org", "Kursbekreftelse", "Velkommen!",
                (Attachment("kurs.ics", "text/calendar", b"BEGIN:VCALENDAR"),))
    db.session.commit()
    transport = RecordingTransport()
    report = deliver_all_due(db.session, transport, SENDER, max_attempts=3)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [mime] = transport.sent
    assert mime["To"] == "a@example.org" and mime["Subject"] == "Kursbekreftelse"
    [attachment] = list(mime.iter_attachments())
    assert attachment.get_filename() == "kurs.ics"
    assert attachment.get_payload(decode=True) == b"BEGIN:VCALENDAR"
    [message] = outbox()
    assert message.status == OutboxStatus.SENT and message.sent_at is not None
    # Nothing is sent twice.
    assert deliver_all_due(db.session, transport, SENDER, max_attempts=3).sent == 0


def test_failures_are_retried_with_backoff_then_given_up(app):
    queue_email(db.session, "a@example.org", "Hei", "Tekst")
    db.session.commit()
    transport = RecordingTransport(failures=10)

    report = deliver_all_due(db.session, transport, SENDER, max_attempts=3)
    assert report.retried == 1
    [message] = outbox()
    assert message.attempts == 1 and "SMTP server is down" in message.last_error
    assert message.next_attempt_at > utcnow() + timedelta(seconds=50)
    # Not due yet: nothing happens.
    assert deliver_all_due(db.session, transport, SENDER, max_attempts=3).retried == 0

    for _ in range(2):
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        deliver_all_due(db.session, transport, SENDER, max_attempts=3)
    db.session.refresh(message)
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)


def test_transient_failure_then_success(app):
    queue_email(db.session, "a@example.org", "Hei", "Tekst")
    db.session.commit()
    transport = RecordingTransport(failures=1)
    deliver_all_due(db.session, transport, SENDER, max_attempts=5)
    message = outbox()[0]
    message.next_attempt_at = utcnow()
    db.session.commit()
    assert deliver_all_due(db.session, transport, SENDER, max_attempts=5).sent == 1
    assert len(transport.sent) == 1


def test_retry_delay_grows_and_is_capped():
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert max(delays) == timedelta(hours=2)


def test_folder_transport_writes_eml(app, tmp_path):
    queue_email(db.session, "a@example.org", "Påminnelse", "Æ ø å")
    db.session.commit()
    deliver_all_due(db.session, FolderTransport(str(tmp_path)), SENDER, max_attempts=3)
    [path] = tmp_path.glob("*.eml")
    parsed = message_from_bytes(path.read_bytes())
    assert parsed["To"] == "a@example.org"
    assert "Æ ø å" in parsed.get_payload(decode=True).decode()


def test_cli_send_and_status(app):
    queue_email(db.session, "a@example.org", "Hei", "Tekst")
    db.session.commit()
    app.config["MAIL_BACKEND"] = "folder"
    runner = app.test_cli_runner()
    assert "pending: 1" in runner.invoke(args=["outbox", "status"]).output
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "sent=1" in result.output
    db.session.expire_all()
    assert "sent: 1" in runner.invoke(args=["outbox", "status"]).output


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="MAIL_BACKEND"):
        transport_from_config({"MAIL_BACKEND": "pigeon"})


def test_in_process_worker_delivers(app):
    queue_email(db.session, "a@example.org", "Hei", "Tekst")
    db.session.commit()
    app.config.update(OUTBOX_POLL_SECONDS=0.05, MAIL_BACKEND="folder")
    stop = ensure_started(app)
    try:
        assert ensure_started(app) is None  # only one sender per app
        for _ in range(100):
            db.session.expire_all()
            status = db.session.scalar(select(OutboxMessage.status))
            db.session.commit()
            if status == OutboxStatus.SENT:
                break
            stop.wait(0.05)
        assert status == OutboxStatus.SENT
    finally:
        stop.set()


def test_smtp_transport_uses_starttls_and_login(app):
    from unittest import mock

    from frikomport.notifications.transports import SMTPTransport, build_mime

    message = queue_email(db.session, "a@example.org", "Hei", "Tekst")
    db.session.commit()
    transport = SMTPTransport("smtp.example.org", 587, "bruker", "hemmelig", True, 10)
    with mock.patch("smtplib.SMTP") as smtp_class:
        transport.send(build_mime(message, SENDER))
    smtp_class.assert_called_once_with("smtp.example.org", 587, timeout=10)
    smtp = smtp_class.return_value.__enter__.return_value
    smtp.starttls.assert_called_once_with()
    smtp.login.assert_called_once_with("bruker", "hemmelig")
    [sent] = smtp.send_message.call_args.args
    assert sent["Message-ID"] == build_mime(message, SENDER)["Message-ID"]  # stable on retry
    assert sent["Message-ID"].startswith(f"<outbox-{message.id}-")
    assert sent["Message-ID"].endswith("@example.org>")
