"""What the demo history's attendance made, and what people uploaded: course certificates
and competence records, certificates from elsewhere, and the expiry reminders already
sent.

The history is written as rows (:mod:`frikomport.demo.history`), so the attendance
signal never ran for it. This writes in bulk what :mod:`~frikomport.competence.attendance`
would have: a certificate for every attended registration and a record per competence
its course grants (members only), valid from the course's last day. It picks up the
attended registrations of finished courses that have no certificate yet, so it also
completes a database seeded before competence existed.

A few named demo people have certificates from elsewhere (with a small PDF each): some
approved, so that the home-care unit in Kongsberg shows every standing whatever the
history's dates, and two awaiting approval by their unit leaders. Reminders are written
as sent for the holdings that have reached a threshold, as the housekeeping would have.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import current_app
from fpdf import FPDF
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.competence import records
from frikomport.competence.certificates import new_code
from frikomport.competence.external import user_folder
from frikomport.competence.models import (
    Certificate,
    Competence,
    CompetenceRecord,
    CourseCompetence,
    RecordSource,
    RecordStatus,
    ReminderSent,
)
from frikomport.courses.attachments import write_file
from frikomport.courses.models import Course, CourseSession, CourseState
from frikomport.demo.bulk import add_rows
from frikomport.demo.competence import HLR, SECRECY, TRANSFER
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.tenancy.models import Organisation, Role
from frikomport.timeutil import OSLO, local_to_utc

# (person, competence, certificate, issuer, achieved days ago, approved?): Ingrid's
# forflytning runs out within the quarter (and her renewal awaits Per Bakke, her leader),
# Per's ran out, Ingrid's signed secrecy declaration holds for good; Marte's awaits Jonas.
EXTERNAL = [
    ("Ingrid Lie", SECRECY, "Taushetserklæring", "Kongsberg kommune", 400, True),
    ("Ingrid Lie", TRANSFER, "Forflytningskurs", "Vestre Viken HF", 3 * 365 - 40, True),
    ("Ingrid Lie", TRANSFER, "Oppfriskning i forflytning", "Vestre Viken HF", 12, False),
    ("Per Bakke", TRANSFER, "Forflytningskurs", "Kongsberg kommune", 3 * 365 + 60, True),
    ("Marte Moen", SECRECY, "Taushetserklæring", "Notodden kommune", 20, False),
    ("Marte Moen", HLR, "Førstehjelpskurs", "Norsk Folkehjelp", 200, True),
]


def seed_competence_history(session: Session, now: datetime) -> None:
    """Written once with the history: a later run (another day) adds nothing, as the
    reminders due since then are the housekeeping's to send."""
    if _certify_attendance(session):
        _external(session, now)
        _reminders_sent(session, now)


# Attendance -------------------------------------------------------------------------------

def _certify_attendance(session: Session) -> int:
    """Certificates and records for the attended registrations without them; how many."""
    attended = session.execute(
        select(Registration.id, Registration.user_id, Registration.name,
               Registration.course_id, Registration.updated_at).join(Registration.course)
        .where(Course.state == CourseState.FINISHED,
               Registration.state == RegistrationState.ATTENDED,
               ~exists().where(Certificate.registration_id == Registration.id))
        .order_by(Registration.id)).all()
    if not attended:
        return 0
    courses = _courses(session, {row.course_id for row in attended})
    add_rows(session, Certificate, [_certificate_row(row, courses[row.course_id])
                                       for row in attended])
    add_rows(session, CompetenceRecord, [
        _record_row(row, courses[row.course_id], competence)
        for row in attended if row.user_id is not None
        for competence in courses[row.course_id]["grants"]])
    return len(attended)


def _courses(session: Session, course_ids: set[int]) -> dict[int, dict]:
    """What the certificates and records copy from each course, in three queries."""
    courses = {}
    for course_id, host_id, title, instructor, starts_at, ends_at, language, host in (
            session.execute(select(Course.id, Course.organisation_id, Course.title,
                                   Course.instructor, Course.starts_at, Course.ends_at,
                                   Course.content_language, Organisation.name)
                            .join(Organisation).where(Course.id.in_(course_ids)))):
        courses[course_id] = {"host_id": host_id, "title": title[:200],
                              "instructor": instructor[:200],
                              "host": host[:200], "language": language,
                              "first_day": starts_at.astimezone(OSLO).date(),
                              "last_day": ends_at.astimezone(OSLO).date(),
                              "minutes": 0, "grants": []}
    for course_id, starts_at, ends_at in session.execute(
            select(CourseSession.course_id, CourseSession.starts_at, CourseSession.ends_at)
            .where(CourseSession.course_id.in_(course_ids))):
        courses[course_id]["minutes"] += int((ends_at - starts_at).total_seconds() // 60)
    for course_id, competence in session.execute(
            select(CourseCompetence.course_id, Competence).join(Competence)
            .where(CourseCompetence.course_id.in_(course_ids))
            .order_by(CourseCompetence.id)):
        courses[course_id]["grants"].append(competence)
    return courses


def _certificate_row(row, course: dict) -> dict:
    return {"organisation_id": course["host_id"], "registration_id": row.id, "user_id": row.user_id,
            "code": new_code(), "name": row.name[:200], "course_title": course["title"],
            "host_name": course["host"], "instructor": course["instructor"],
            "first_day": course["first_day"], "last_day": course["last_day"],
            "teaching_minutes": course["minutes"],
            "competences": "\n".join(sorted(c.name for c in course["grants"])),
            "language": course["language"], "issued_at": row.updated_at, "revoked_at": None}


def _record_row(row, course: dict, competence: Competence) -> dict:
    return _record(row.user_id, competence, course["last_day"], RecordSource.COURSE,
                   RecordStatus.APPROVED, row.updated_at) | {
        "registration_id": row.id, "title": course["title"], "issuer": course["host"]}


def _record(user_id: int, competence: Competence, valid_from: date, source: RecordSource,
            status: RecordStatus, created_at: datetime) -> dict:
    return {"user_id": user_id, "competence_id": competence.id, "source": source,
            "status": status, "valid_from": valid_from,
            "valid_until": records.valid_until_for(competence, valid_from),
            "registration_id": None, "title": "", "issuer": "", "organisation_id": None,
            "filename": "", "stored_name": "", "content_type": "", "decided_by_id": None,
            "decided_at": None, "decision_note": "", "created_at": created_at}


# Certificates from elsewhere -------------------------------------------------------------

def _external(session: Session, now: datetime) -> None:
    """The certificates of :data:`EXTERNAL` that are missing, each with its file, decided
    by the person's organisation's admin where approved."""
    people = {user.name: user for user in session.scalars(select(User).where(
        User.name.in_({entry[0] for entry in EXTERNAL})))}
    competences = {c.name: c for c in session.scalars(select(Competence).where(
        Competence.organisation_id.is_(None)))}
    existing = set(session.execute(select(CompetenceRecord.user_id, CompetenceRecord.title)
                                   .where(CompetenceRecord.source == RecordSource.EXTERNAL)))
    today = records.today(now)
    rows = []
    for name, competence_name, title, issuer, days_ago, approved in EXTERNAL:
        person = people.get(name)
        if person is None or person.employer is None or (person.id, title) in existing:
            continue
        achieved = today - timedelta(days=days_ago)
        uploaded = local_to_utc(achieved + timedelta(days=min(days_ago, 3)), time(19))
        row = _record(person.id, competences[competence_name], achieved,
                      RecordSource.EXTERNAL,
                      RecordStatus.APPROVED if approved else RecordStatus.PENDING, uploaded)
        row |= {"title": title, "issuer": issuer, "organisation_id": person.employer.id,
                "filename": f"{title.split()[0].lower()}.pdf", "content_type": "application/pdf",
                "stored_name": write_file(user_folder(person.id),
                                          _pdf([f"Kursbevis: {title}", name, issuer]))}
        if approved:
            row |= {"decided_by_id": _admin_of(person.employer).id,
                    "decided_at": min(uploaded + timedelta(days=2), now)}
        rows.append(row)
    add_rows(session, CompetenceRecord, rows)


def _admin_of(organisation: Organisation) -> User:
    return next(m.user for m in sorted(organisation.memberships, key=lambda m: m.id)
                if m.role == Role.ADMIN)


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` (what a scanned certificate stands in for)."""
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=18)
    for line in lines:
        document.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


# Reminders ------------------------------------------------------------------------------

def _reminders_sent(session: Session, now: datetime) -> None:
    """Every holding that runs out within the reminder thresholds has had the reminder of
    each threshold it has passed (as the housekeeping, running all along, sent them)."""
    thresholds = current_app.config["COMPETENCE_REMINDER_DAYS"]
    today = records.today(now)
    user_ids = session.scalars(select(CompetenceRecord.user_id).distinct())
    sent = set(session.execute(select(ReminderSent.user_id, ReminderSent.competence_id,
                                      ReminderSent.valid_until, ReminderSent.days)))
    rows = {}
    for (user_id, competence_id), until in records.holdings(session, user_ids).items():
        if until is None or not today <= until <= today + timedelta(days=max(thresholds)):
            continue
        for days in thresholds:
            key = (user_id, competence_id, until, days)
            if (until - today).days <= days and key not in sent:
                rows[key] = {"user_id": user_id, "competence_id": competence_id,
                             "valid_until": until, "days": days,
                             "sent_at": min(now, local_to_utc(until - timedelta(days=days),
                                                              time(7)))}
    add_rows(session, ReminderSent, list(rows.values()))
