"""Registration e-mails are written by the sender, not while the course is locked.

The request stores who gets the message and what it is about, in the same transaction
as the registration; the sender writes and delivers it to a real SMTP receiver. A
message about a registration that no longer exists is dropped, and a message that
cannot be written fails alone (the operator sees it) without holding up the others.
"""

from __future__ import annotations

from flask import template_rendered
from icalendar import Calendar
from sqlalchemy import select

from frikomport.courses.models import Visibility
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.notifications.rendering import Rendered, queue_deferred, renderer
from frikomport.notifications.services import queue_email
from frikomport.registrations.models import Registration
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, member
from tests.mailserver import outbox_cli, use_smtp


def _register(client, login, course, user):
    login(user)
    response = client.post(f"/courses/{course.id}/register", follow_redirects=True)
    assert "Du er påmeldt" in response.text
    return db.session.scalars(select(Registration).where(Registration.user_id == user.id)).one()


def _queued(address: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage)
                              .where(OutboxMessage.to_address == address)).one()


def test_the_request_queues_and_the_sender_writes_the_confirmation(
        app, client, login, kongsberg, smtp_receiver):
    use_smtp(app, smtp_receiver)
    course = CourseFactory(organisation=kongsberg, title="Brannvern", capacity=5,
                           visibility=Visibility.REGION)
    nora = member(kongsberg, Role.EMPLOYEE, email="nora@kongsberg.example.org", name="Nora")
    templates = []

    def remember(sender, template, context, **extra):
        templates.append(template.name)

    with template_rendered.connected_to(remember, app):
        registration = _register(client, login, course, nora)
    assert not [name for name in templates if name.startswith("email/")]
    queued = _queued(nora.email)
    assert (queued.subject, queued.body_text, queued.renderer) == ("", "", "registration")
    assert queued.render_arguments["registration"] == registration.id

    assert "sent=1 retried=0 failed=0" in outbox_cli(app, "send")
    [mail] = smtp_receiver.received
    assert mail["To"] == nora.email and mail["Subject"] == "Påmelding bekreftet: Brannvern"
    body = mail.get_body(("plain",)).get_content()
    assert "Hei Nora" in body and "/registrations/cancel/" in body
    [ics] = [part for part in mail.iter_attachments()
             if part.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event["dtstart"].dt == course.sessions[0].starts_at
    stored = _queued(nora.email)
    assert (stored.status, stored.subject, stored.renderer) == (
        OutboxStatus.SENT, "Påmelding bekreftet: Brannvern", None)


def test_a_message_about_a_deleted_registration_is_dropped(
        app, client, login, kongsberg, smtp_receiver):
    use_smtp(app, smtp_receiver)
    course = CourseFactory(organisation=kongsberg, capacity=5)
    ola = member(kongsberg, Role.EMPLOYEE, email="ola@kongsberg.example.org")
    registration = _register(client, login, course, ola)
    db.session.delete(registration)  # e.g. removed by the retention rules before sending
    db.session.commit()

    assert "sent=0 retried=0 failed=0" in outbox_cli(app, "send")
    assert smtp_receiver.received == []
    assert db.session.scalars(select(OutboxMessage)).all() == []


@renderer("test-broken")
def _broken(session, arguments) -> Rendered:
    raise KeyError(arguments["missing"])


def test_a_message_that_cannot_be_written_fails_alone(app, smtp_receiver):
    use_smtp(app, smtp_receiver)
    queue_deferred(db.session, "kari@example.org", "test-broken", {})
    queue_email(db.session, "per@example.org", "Hei", "Tekst")
    db.session.commit()

    assert "sent=1 retried=0 failed=1" in outbox_cli(app, "send")
    assert [mail["To"] for mail in smtp_receiver.received] == ["per@example.org"]
    broken = _queued("kari@example.org")
    assert broken.status == OutboxStatus.FAILED
    assert broken.last_error.startswith("Cannot write the message: KeyError")
    assert broken.renderer == "test-broken"  # kept, so a retry after a fix writes it
