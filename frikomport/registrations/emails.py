"""E-mails about registrations, queued in the outbox in the caller's transaction and
written by the sender."""

from __future__ import annotations

from sqlalchemy.orm import Session

from frikomport.courses.feeds import calendar_bytes
from frikomport.i18n import recipient_locale
from frikomport.notifications.rendering import Rendered, queue_deferred, renderer
from frikomport.notifications.services import Attachment, render_email
from frikomport.registrations import tokens
from frikomport.registrations.models import Registration
from frikomport.urls import external_url


def _locale(registration: Registration) -> str:
    """The participant's language; a guest's is that of the course's host."""
    return recipient_locale(registration.user, host=registration.course.organisation)


def _ics(registration: Registration) -> tuple[Attachment, ...]:
    course = registration.course
    return (Attachment(f"kurs-{course.id}.ics", "text/calendar",
                       calendar_bytes([course], course.title)),)


def _send(session: Session, registration: Registration, template: str, with_ics=False,
          **context) -> None:
    """Queue the e-mail; the sender writes it (see :func:`_write`), so a registration
    holding the course's lock does not wait for templates, links and calendar files.
    ``context`` holds JSON values only."""
    queue_deferred(session, registration.email, "registration",
                   {"registration": registration.id, "template": template,
                    "ics": with_ics, "context": context})


@renderer("registration")
def _write(session: Session, arguments: dict) -> Rendered | None:
    registration = session.get(Registration, arguments["registration"])
    if registration is None:  # deleted (by its owner or the retention rules) meanwhile
        return None
    template, course = arguments["template"], registration.course
    token = tokens.make(tokens.CANCEL, registration)
    # Guests have no account and no "My data": every e-mail links to their registration.
    guest_data_url = (external_url("guest_data.registration", token=token)
                      if registration.user_id is None else None)
    link = (external_url("registrations.confirm_guest",
                         token=tokens.make(tokens.GUEST_CONFIRM, registration))
            if template == "guest_confirm" else None)
    subject, body = render_email(
        template, _locale(registration), registration=registration, course=course,
        course_url=external_url("courses.detail", course_id=course.id),
        cancel_url=external_url("registrations.cancel_by_link", token=token),
        guest_data_url=guest_data_url, link=link, **arguments["context"])
    return Rendered(subject, body, _ics(registration) if arguments["ics"] else ())


def confirmed(session: Session, registration: Registration, promoted: bool = False) -> None:
    _send(session, registration, "registration_confirmed", with_ics=True, promoted=promoted)


def waitlisted(session: Session, registration: Registration, position: int) -> None:
    _send(session, registration, "registration_waitlisted", position=position)


def awaiting_approval(session: Session, registration: Registration) -> None:
    _send(session, registration, "registration_pending")


def rejected(session: Session, registration: Registration) -> None:
    _send(session, registration, "registration_rejected")


def cancelled(session: Session, registration: Registration, by_organiser: bool) -> None:
    _send(session, registration, "registration_cancelled", by_organiser=by_organiser)


def course_cancelled(session: Session, registration: Registration, reason: str) -> None:
    _send(session, registration, "course_cancelled", with_ics=True, reason=reason)


def reminder(session: Session, registration: Registration) -> None:
    _send(session, registration, "registration_reminder", with_ics=True)


def guest_confirmation(session: Session, registration: Registration) -> None:
    _send(session, registration, "guest_confirm")


def already_registered(session: Session, registration: Registration) -> None:
    _send(session, registration, "registration_exists")


def message_from_organiser(session: Session, registration: Registration, subject: str,
                           body: str) -> None:
    _send(session, registration, "organiser_message", subject=subject, body=body)
