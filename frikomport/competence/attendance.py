"""What marking attendance does for competence: records and a certificate (or, when
attendance is taken back, their withdrawal). Connected to
:data:`frikomport.registrations.signals.attendance_changed` in ``web.connect_receivers``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from frikomport.competence import certificate_emails, certificates, records
from frikomport.registrations.models import Registration, RegistrationState


def on_attendance_changed(registration: Registration, *, session: Session, **_kwargs) -> None:
    if registration.state == RegistrationState.ATTENDED:
        competences = [grant.competence for grant in registration.course.competence_grants]
        records.grant_for_attendance(session, registration, competences)
        certificate_emails.queue(session, registration,
                                 certificates.issue(session, registration, competences))
    else:
        records.withdraw_for_registration(session, registration)
        certificates.revoke(session, registration)
