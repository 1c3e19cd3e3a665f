"""The e-mail with the course certificate, sent when attendance is marked.

It is queued as a deferred message (see :mod:`frikomport.notifications.rendering`): the
request that marks 200 people only adds 200 outbox rows, and the sender draws each PDF
just before delivery. The message names its certificate by the verification code, which
is known before the row is inserted (no flush, no query per person), and which a
certificate issued again after attendance was taken back and marked anew does not share:
so a certificate revoked (or deleted) before sending is not sent, and nothing is sent
twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.competence import pdf
from frikomport.competence.models import Certificate
from frikomport.i18n import recipient_locale
from frikomport.notifications.rendering import Rendered, queue_deferred, renderer
from frikomport.notifications.services import Attachment, render_email
from frikomport.registrations import tokens
from frikomport.registrations.models import Registration
from frikomport.tenancy.models import Organisation
from frikomport.urls import external_url


def queue(session: Session, registration: Registration, certificate: Certificate) -> None:
    """Send ``certificate`` to the address the participant registered with."""
    queue_deferred(session, registration.email, "certificate", {"code": certificate.code})


@renderer("certificate")
def _write(session: Session, arguments: dict) -> Rendered | None:
    certificate = session.scalar(select(Certificate)
                                 .where(Certificate.code == arguments["code"]))
    if certificate is None or certificate.revoked_at is not None:
        return None
    user = session.get(User, certificate.user_id) if certificate.user_id else None
    host = session.get(Organisation, certificate.organisation_id)
    subject, body = render_email(
        "certificate_issued", recipient_locale(user, host=host), certificate=certificate,
        verify_url=pdf.verify_url(certificate),
        mine_url=external_url("registrations.my_registrations") if user else None,
        guest_data_url=_guest_data_url(session, certificate) if user is None else None)
    return Rendered(subject, body, (Attachment(pdf.filename(certificate), "application/pdf",
                                               pdf.render(certificate)),))


def _guest_data_url(session: Session, certificate: Certificate) -> str | None:
    """Every e-mail to a guest links to their registration (they have no "My data")."""
    registration = (session.get(Registration, certificate.registration_id)
                    if certificate.registration_id else None)
    if registration is None:
        return None
    return external_url("guest_data.registration",
                        token=tokens.make(tokens.CANCEL, registration))
