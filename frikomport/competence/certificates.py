"""Course certificates (kursbevis): issued when attendance is marked, revoked when it is
taken back, found by their public verification code.

The certificate copies what it certifies (name, course, host, days, hours, instructor,
competences) at issue, so later edits to the course do not change a document already
sent. Issuing only adds rows: bulk attendance for 700 people reads nothing per person.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.competence.models import Certificate, Competence
from frikomport.competence.records import course_last_day, today
from frikomport.db import utcnow
from frikomport.errors import NotFoundError
from frikomport.permissions import Permission, can
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.tenancy.models import Organisation
from frikomport.timeutil import OSLO

# Unambiguous capitals and digits (no 0/O, 1/I/L): read aloud or typed from paper.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31^12 ≈ 8·10^17: not guessable by trying


def new_code() -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalise_code(raw: str) -> str:
    """A code as typed (any case, spaces or dashes) in its printed form, or "" if it
    cannot be one."""
    letters = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    if len(letters) != CODE_LENGTH or any(ch not in _ALPHABET for ch in letters):
        return ""
    return f"{letters[:4]}-{letters[4:8]}-{letters[8:]}"


def teaching_minutes(course) -> int:
    return sum(int((s.ends_at - s.starts_at).total_seconds() // 60) for s in course.sessions)


def issue(session: Session, registration: Registration,
          competences: list[Competence]) -> Certificate:
    """A certificate for an attended registration."""
    course = registration.course
    first = course.starts_at.astimezone(OSLO).date() if course.starts_at else today()
    certificate = Certificate(
        organisation_id=course.organisation_id, registration_id=registration.id,
        user_id=registration.user_id, code=new_code(), name=registration.name[:200],
        course_title=course.title[:200], host_name=course.organisation.name[:200],
        instructor=course.instructor[:200], first_day=first,
        last_day=course_last_day(course) or first, teaching_minutes=teaching_minutes(course),
        competences="\n".join(sorted(c.name for c in competences)),
        language=course.content_language)
    session.add(certificate)
    return certificate


def revoke(session: Session, registration: Registration) -> None:
    """Attendance taken back: the certificate no longer holds (its code says so), and the
    registration is free for a new one if attendance is marked again."""
    session.execute(update(Certificate)
                    .where(Certificate.registration_id == registration.id)
                    .values(revoked_at=utcnow(), registration_id=None))


def by_code(session: Session, raw_code: str) -> Certificate | None:
    code = normalise_code(raw_code)
    if not code:
        return None
    return session.scalar(select(Certificate).where(Certificate.code == code))


def by_registration(session: Session, user) -> dict[int, Certificate]:
    """The person's valid certificates by registration id, for "My registrations" (one
    query, however many courses they attended)."""
    return {certificate.registration_id: certificate for certificate in session.scalars(
        select(Certificate).where(Certificate.user_id == user.id,
                                  Certificate.registration_id.is_not(None),
                                  Certificate.revoked_at.is_(None)))}


def issued_for(session: Session, registrations) -> dict[int, Certificate]:
    """The valid certificates of those of ``registrations`` who attended, by registration
    id: one query for a page of the participant list (none if nobody has attended)."""
    ids = [r.id for r in registrations if r.state == RegistrationState.ATTENDED]
    if not ids:
        return {}
    return {certificate.registration_id: certificate for certificate in session.scalars(
        select(Certificate).where(Certificate.registration_id.in_(ids)))}


def for_download(session: Session, actor, certificate_id: int) -> Certificate:
    """A valid certificate the actor may download: their own, or one their organisation
    issued as host when they organise its courses (a guest who lost the e-mail asks the
    organiser; that download is audited). Anyone else is told it does not exist."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None or certificate.revoked_at is not None:
        raise NotFoundError()
    if certificate.user_id is not None and certificate.user_id == actor.id:
        return certificate
    host = session.get(Organisation, certificate.organisation_id)
    if not can(actor, Permission.MANAGE_COURSES, host):
        raise NotFoundError()
    record(session, actor, "certificate.downloaded", certificate, host,
           participant=certificate.name, course=certificate.course_title)
    return certificate
