"""The outbox never loses or duplicates a message.

Delivery goes to a real SMTP server (aiosmtpd on 127.0.0.1) that counts what it accepts
by Message-ID: several ``flask outbox send`` processes draining one outbox hand each
message over exactly once; a message refused until it is given up on is kept as failed
until an operator sends it again (``flask outbox retry --failed`` or the site admin's
button); a crashed sender's lease keeps others away until it runs out. /healthz tells
the operator, and only the operator, how many messages failed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import update

from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.notifications.delivery import claim
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.notifications.services import queue_email
from frikomport.notifications.transports import message_id
from frikomport.tenancy.models import Role
from tests.factories import DEFAULT_PASSWORD, OrganisationFactory, UserFactory, member
from tests.helpers import outbox
from tests.mailserver import MAIL_FROM, free_port, outbox_cli, use_smtp

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 60
SENDERS = 3
PROCESS_TIMEOUT = 90  # seconds for all sender processes together
HEALTH_TOKEN = "monitoring-secret-0123456789"


def queue(count: int, status: OutboxStatus = OutboxStatus.PENDING, **fields):
    messages = [queue_email(db.session, f"person{n}@example.org", f"Melding {n}", "Tekst")
                for n in range(count)]
    db.session.flush()
    for message in messages:
        message.status = status
        for name, value in fields.items():
            setattr(message, name, value)
    db.session.commit()
    return messages


def msgid(message: OutboxMessage) -> str:
    return message_id(message, MAIL_FROM)


# 1. Several sender processes, one delivery per message -----------------------------------

def _sender_env(database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "FRIKOMPORT_DATA_DIR": str(data_dir),
        "SECRET_KEY": "sender-process-secret-key-0123456789abcdef",
        "MAIL_BACKEND": "smtp",
        "MAIL_FROM": MAIL_FROM,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "0",
        "SMTP_USERNAME": "",
        "SMTP_TIMEOUT": "60",  # longer than the receiver's gate
        "OUTBOX_IN_PROCESS": "0",
        "SEARCH_IN_PROCESS": "0",
        "HOUSEKEEPING_IN_PROCESS": "0",
        "OUTBOX_MAX_ATTEMPTS": "3",
    })
    return env


def _run_senders(env: dict[str, str], count: int) -> list[tuple[int, str, str]]:
    """Start ``count`` ``flask outbox send`` processes at once; wait for all (bounded)."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "send"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(count)]
    deadline = time.monotonic() + PROCESS_TIMEOUT
    results = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=max(deadline - time.monotonic(), 1))
            results.append((process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


def test_several_sender_processes_deliver_every_message_exactly_once(
        app, database_url, smtp_receiver, tmp_path):
    smtp_receiver.delay = 0.03  # 60 messages take a single sender about two seconds
    smtp_receiver.gate = SENDERS
    messages = queue(MESSAGES)
    expected = {msgid(m): m.to_address for m in messages}
    db.session.commit()
    assert len(expected) == MESSAGES

    results = _run_senders(_sender_env(database_url, smtp_receiver.port, tmp_path), SENDERS)

    for returncode, _, stderr in results:
        assert returncode == 0, stderr[-3000:]
    reported = [re.search(r"sent=(\d+) retried=(\d+) failed=(\d+)", out) for _, out, _ in results]
    assert all(reported), [out for _, out, _ in results]
    duplicates = smtp_receiver.duplicates()
    assert not duplicates, (
        f"{len(duplicates)} of {MESSAGES} messages were delivered more than once: "
        f"{sum(smtp_receiver.deliveries.values())} deliveries in all")
    assert smtp_receiver.deliveries == Counter(dict.fromkeys(expected, 1))
    assert smtp_receiver.recipients == {mid: [to] for mid, to in expected.items()}
    # Each process reports only what it delivered itself.
    assert sum(int(m[1]) for m in reported) == MESSAGES
    assert all(m[2] == m[3] == "0" for m in reported)
    db.session.expire_all()
    stored = outbox()
    assert [(m.status, m.attempts, m.claimed_by) for m in stored] == \
        [(OutboxStatus.SENT, 1, None)] * MESSAGES
    # The senders really ran at the same time (else the test would prove nothing).
    assert smtp_receiver.max_active >= 2, "the sender processes never overlapped"
    assert all(int(m[1]) > 0 for m in reported), "a sender process delivered nothing"


# 2. Given up after OUTBOX_MAX_ATTEMPTS, sent again only when asked ---------------------------

def test_failed_message_is_kept_until_retry_failed_then_delivered_once(app, smtp_receiver):
    use_smtp(app, smtp_receiver, OUTBOX_MAX_ATTEMPTS=3)
    smtp_receiver.refuse = True
    [message] = queue(1)

    for attempt in (1, 2):
        assert "sent=0 retried=1 failed=0" in outbox_cli(app, "send")
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, attempt)
        assert message.next_attempt_at > utcnow()  # backing off
        assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")  # not due yet
        assert "1 message(s)" in outbox_cli(app, "retry")  # …but `retry` makes it due now
    assert "sent=0 retried=0 failed=1" in outbox_cli(app, "send")
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)
    assert "550" in message.last_error and "Mailbox unavailable" in message.last_error
    assert smtp_receiver.refused == 3

    # Nothing sends a failed message again on its own, and plain `retry` leaves it alone.
    smtp_receiver.refuse = False
    assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")
    assert "0 message(s)" in outbox_cli(app, "retry")
    assert message.status == OutboxStatus.FAILED
    assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")
    assert smtp_receiver.deliveries == Counter()

    assert "1 message(s)" in outbox_cli(app, "retry", "--failed")
    assert (message.status, message.attempts, message.claimed_until) == \
        (OutboxStatus.PENDING, 0, None)
    assert message.next_attempt_at <= utcnow()
    assert "sent=1 retried=0 failed=0" in outbox_cli(app, "send")
    assert (message.status, message.last_error) == (OutboxStatus.SENT, "")
    assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")
    assert smtp_receiver.deliveries == Counter({msgid(message): 1})
    assert smtp_receiver.recipients == {msgid(message): [message.to_address]}


def test_nothing_listening_counts_as_a_failed_attempt(app, smtp_receiver):
    use_smtp(app, smtp_receiver, OUTBOX_MAX_ATTEMPTS=1, SMTP_PORT=free_port())
    [message] = queue(1)
    assert "sent=0 retried=0 failed=1" in outbox_cli(app, "send")
    assert message.status == OutboxStatus.FAILED
    assert "ConnectionRefusedError" in message.last_error

    app.config["SMTP_PORT"] = smtp_receiver.port
    assert "1 message(s)" in outbox_cli(app, "retry", "--failed")
    assert "sent=1 retried=0 failed=0" in outbox_cli(app, "send")
    assert smtp_receiver.deliveries == Counter({msgid(message): 1})


# 3. The site admin's e-mail queue ---------------------------------------------------------

class _Forms(HTMLParser):
    """The forms of a page: action, method and the values of their named inputs."""

    def __init__(self, page: str):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self._open = {"action": values.get("action") or "",
                          "method": (values.get("method") or "get").lower(), "fields": {}}
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and values.get("name"):
            self._open["fields"][values["name"]] = values.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def forms(page: str, action: str) -> list[dict]:
    return [f for f in _Forms(page).forms if f["action"] == action]


def csrf_login(client, user) -> None:
    [login_form] = [f for f in _Forms(client.get("/login").text).forms
                    if "email" in f["fields"]]  # e-mail first; the password goes with it
    fields = login_form["fields"] | {"email": user.email, "password": DEFAULT_PASSWORD}
    assert client.post("/login", data=fields).status_code == 302


def test_site_admin_sees_failed_messages_and_sends_them_again(app, app_factory, smtp_receiver):
    secured = app_factory(WTF_CSRF_ENABLED=True)  # post exactly what the page gives
    client = secured.test_client()
    csrf_login(client, UserFactory(is_site_admin=True))
    failed = queue(3, OutboxStatus.FAILED, attempts=8, last_error="SMTPDataError: (550, "
                   "b'5.1.1 Mailbox unavailable')")
    [sent] = queue(1, OutboxStatus.SENT)
    sent.to_address = "already-sent@example.org"
    db.session.commit()

    page = client.get("/admin/outbox")
    assert page.status_code == 200
    for message in failed:
        assert message.to_address in page.text and message.subject in page.text
    assert "already-sent@example.org" not in page.text
    assert "5.1.1 Mailbox unavailable" in page.text
    retry_forms = forms(page.text, "/admin/outbox/retry")
    assert all(f["method"] == "post" and f["fields"].get("csrf_token") for f in retry_forms)
    one_each = {f["fields"]["message_id"]: f for f in retry_forms if "message_id" in f["fields"]}
    assert set(one_each) == {str(m.id) for m in failed}
    [all_form] = [f for f in retry_forms if "message_id" not in f["fields"]]

    # "Send again" on one message requeues that one only.
    response = client.post("/admin/outbox/retry", data=one_each[str(failed[0].id)]["fields"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/outbox")
    db.session.expire_all()
    assert [(m.status, m.attempts) for m in failed] == \
        [(OutboxStatus.PENDING, 0), (OutboxStatus.FAILED, 8), (OutboxStatus.FAILED, 8)]
    page = client.get("/admin/outbox").text
    assert failed[0].to_address not in page and failed[1].to_address in page

    # A malformed message id requeues nothing (rather than everything).
    fields = dict(one_each[str(failed[1].id)]["fields"], message_id="x")
    assert client.post("/admin/outbox/retry", data=fields).status_code == 302
    db.session.expire_all()
    assert [m.status for m in failed[1:]] == [OutboxStatus.FAILED] * 2

    # "Send all failed e-mails again" requeues the rest; the page then has none to show.
    assert client.post("/admin/outbox/retry", data=all_form["fields"]).status_code == 302
    db.session.expire_all()
    assert [(m.status, m.attempts) for m in failed] == [(OutboxStatus.PENDING, 0)] * 3
    assert forms(client.get("/admin/outbox").text, "/admin/outbox/retry") == []

    use_smtp(app, smtp_receiver)
    assert "sent=3 retried=0 failed=0" in outbox_cli(app, "send")
    assert smtp_receiver.deliveries == Counter({msgid(m): 1 for m in failed})


@pytest.mark.parametrize("role", list(Role))
def test_tenant_roles_cannot_see_or_retry_the_outbox(app, client, login, role):
    [message] = queue(1, OutboxStatus.FAILED, attempts=8, last_error="550 nope")
    login(member(OrganisationFactory(), role))
    page = client.get("/admin/outbox")
    assert page.status_code == 404 and message.to_address not in page.text
    assert client.post("/admin/outbox/retry").status_code == 404
    assert client.post("/admin/outbox/retry",
                       data={"message_id": str(message.id)}).status_code == 404
    db.session.expire_all()
    assert message.status == OutboxStatus.FAILED


def test_anonymous_is_sent_to_login_from_the_outbox(app, client):
    [message] = queue(1, OutboxStatus.FAILED, attempts=8, last_error="550 nope")
    for response in (client.get("/admin/outbox"), client.post("/admin/outbox/retry")):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.expire_all()
    assert message.status == OutboxStatus.FAILED


# 4. /healthz ------------------------------------------------------------------------------

def test_healthz_shows_outbox_counts_to_the_operator_only(app, app_factory, login, tmp_path):
    queue(1)
    queue(2, OutboxStatus.SENT)
    queue(3, OutboxStatus.FAILED, attempts=8, last_error="550 nope")
    served = app_factory(HEALTH_TOKEN=HEALTH_TOKEN)
    counts = {"pending": 1, "sent": 2, "failed": 3}

    anonymous = served.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = anonymous.get("/healthz", headers=headers)
        assert response.status_code == 200
        assert response.json == {"status": "ok"}  # no counts, no paths
        assert str(tmp_path) not in response.text and "/" not in response.text

    tenant_admin = served.test_client()
    login(member(OrganisationFactory(), Role.ADMIN), test_client=tenant_admin)
    assert tenant_admin.get("/healthz").json == {"status": "ok"}

    monitoring = served.test_client().get(
        "/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}).json
    assert monitoring["status"] == "ok" and monitoring["outbox"] == counts

    site_admin = served.test_client()
    login(UserFactory(is_site_admin=True), test_client=site_admin)
    health = site_admin.get("/healthz").json
    assert health["status"] == "ok" and health["outbox"] == counts


# 5. A crashed sender's lease ---------------------------------------------------------------

def test_a_claimed_message_waits_for_the_lease_to_run_out(app, smtp_receiver):
    use_smtp(app, smtp_receiver)
    [message] = queue(1)
    # A sender claims the message and dies before it delivers or records anything.
    assert claim(db.session, message.id, "crashed-sender")
    assert not claim(db.session, message.id, "another-sender")  # one owner at a time
    db.session.expire_all()
    assert message.claimed_by == "crashed-sender" and message.claimed_until > utcnow()

    assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")
    assert "0 message(s)" in outbox_cli(app, "retry")  # retry leaves a claimed message alone
    assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")
    assert smtp_receiver.deliveries == Counter()
    assert (message.status, message.claimed_by) == (OutboxStatus.PENDING, "crashed-sender")

    # The lease runs out: the next sender takes the message over and delivers it once.
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                       .values(claimed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert "sent=1 retried=0 failed=0" in outbox_cli(app, "send")
    assert (message.status, message.attempts, message.claimed_by, message.claimed_until) == \
        (OutboxStatus.SENT, 2, None, None)
    assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")
    assert smtp_receiver.deliveries == Counter({msgid(message): 1})
