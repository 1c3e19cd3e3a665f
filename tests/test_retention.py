"""Retention: every rule removes what has run out and nothing newer; a dry run changes
nothing and counts what the real run then does; purging twice changes nothing the
second time; statistics survive anonymisation, and nothing personal does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from config import load_config
from frikomport.audit.models import AuditEvent
from frikomport.billing.models import InvoiceLine
from frikomport.competence.certificates import new_code
from frikomport.competence.models import Certificate
from frikomport.courses.models import CourseState
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.housekeeping import run_all
from frikomport.notifications.models import OutboxAttachment, OutboxMessage, OutboxStatus
from frikomport.privacy import retention
from frikomport.privacy.retention import REMOVED, months_before, purge, scrub
from frikomport.registrations.models import Registration, RegistrationEvent
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from frikomport.timeutil import to_local
from tests.factories import CourseFactory, OrganisationFactory, member, register

MINUTE = timedelta(minutes=1)


def _ended_course(end: datetime, organisation=None):
    return CourseFactory(organisation=organisation or OrganisationFactory(),
                         state=CourseState.FINISHED, sessions=[(end - timedelta(hours=3), end)])


def _guest(course, who: str, state=S.ATTENDED, confirmed=True, **fields) -> Registration:
    """A guest registration whose every personal value contains ``who``."""
    values = {"name": f"{who} Gjest", "email": f"{who.lower()}@gjest.example.net",
              "phone": f"+47 {who}", "employer_name": f"{who} AS",
              "comment": f"Hilsen {who}"} | fields
    registration = Registration(
        organisation_id=course.organisation_id, course=course, state=state,
        email_confirmed_at=utcnow() if confirmed else None, **values)
    db.session.add(registration)
    db.session.commit()
    return registration


def _history(registration: Registration, actor, to_state: S, note: str) -> None:
    db.session.add(RegistrationEvent(
        organisation_id=registration.organisation_id, registration=registration,
        actor_id=actor.id, to_state=to_state.value, note=note))
    db.session.commit()


def _message(status: OutboxStatus, sent_at=None, next_attempt_at=None) -> OutboxMessage:
    message = OutboxMessage(
        to_address="mottaker@example.net", subject="Påmelding: Kurs", body_text="Lenke",
        status=status, sent_at=sent_at, next_attempt_at=next_attempt_at or utcnow(),
        attachments=[OutboxAttachment(filename="kurs.ics", content_type="text/calendar",
                                      data=b"BEGIN:VCALENDAR")])
    db.session.add(message)
    db.session.commit()
    return message


def _audit(created_at: datetime, organisation, **details) -> AuditEvent:
    event = AuditEvent(organisation_id=organisation.id, action="membership.removed",
                       object_type="membership", object_id=7, details=details,
                       created_at=created_at)
    db.session.add(event)
    db.session.commit()
    return event


def _certificate(course, guest_registration: Registration) -> Certificate:
    """The course certificate a guest got for attending ``course``."""
    day = to_local(course.ends_at).date()
    certificate = Certificate(
        organisation_id=course.organisation_id, registration_id=guest_registration.id,
        code=new_code(), name=guest_registration.name, course_title=course.title,
        host_name=course.organisation.name, first_day=day, last_day=day)
    db.session.add(certificate)
    db.session.commit()
    return certificate


def _rows(*models) -> list[tuple]:
    """Every column of every row (to see that nothing changed)."""
    db.session.expire_all()
    return [tuple(getattr(row, c.key) for c in model.__table__.columns)
            for model in models
            for row in db.session.scalars(select(model).order_by(model.id))]


def _statistics(*, except_course=None) -> dict:
    """Registrations per course × state × employer organisation."""
    db.session.expire_all()
    query = (select(Registration.course_id, Registration.state,
                    Registration.employer_organisation_id, func.count())
             .group_by(Registration.course_id, Registration.state,
                       Registration.employer_organisation_id))
    if except_course is not None:
        query = query.where(Registration.course_id != except_course.id)
    return {tuple(row[:3]): row[3] for row in db.session.execute(query)}


# One rule at a time ------------------------------------------------------------------------

def test_unconfirmed_guests_go_after_the_configured_hours(app):
    now = utcnow()
    course = CourseFactory(allow_guests=True)
    stale = _guest(course, "Gammel", S.PENDING, confirmed=False,
                   created_at=now - timedelta(hours=48) - MINUTE)
    fresh = _guest(course, "Fersk", S.PENDING, confirmed=False,
                   created_at=now - timedelta(hours=48) + MINUTE)
    confirmed = _guest(course, "Bekreftet", S.CONFIRMED,
                       created_at=now - timedelta(hours=49))
    stale_id = stale.id

    assert retention.unconfirmed_guests(db.session, now) == 1
    db.session.commit()
    left = set(db.session.scalars(select(Registration.id)))
    assert left == {fresh.id, confirmed.id} and stale_id not in left


def test_comments_and_phones_are_emptied_a_year_after_the_course(app):
    now = utcnow()
    cutoff = months_before(now, 12)
    old = _guest(_ended_course(cutoff - MINUTE), "Gammel")
    recent = _guest(_ended_course(cutoff + MINUTE), "Nylig")
    upcoming = _guest(CourseFactory(), "Kommende")

    assert retention.comments_and_phones(db.session, now) == 1
    db.session.commit()
    db.session.expire_all()
    assert (old.comment, old.phone) == ("", "")
    assert (old.name, old.email) == ("Gammel Gjest", "gammel@gjest.example.net")
    for kept, who in ((recent, "Nylig"), (upcoming, "Kommende")):
        assert (kept.comment, kept.phone) == (f"Hilsen {who}", f"+47 {who}")


def test_participants_are_anonymised_after_five_years_keeping_the_statistics(app):
    now = utcnow()
    cutoff = months_before(now, 60)
    host = OrganisationFactory()
    organiser = member(host, Role.ORGANISER)
    old, recent = _ended_course(cutoff - MINUTE, host), _ended_course(cutoff + MINUTE, host)
    person = member(host, name="Mona Medlem", email="mona@kommune.example.org")
    kept_member = register(recent, person, S.ATTENDED, comment="Hilsen Mona")
    mine = register(old, person, S.ATTENDED, phone="+47 Mona", comment="Hilsen Mona")
    _history(mine, organiser, S.ATTENDED, "marked by the organiser")
    # Two confirmed guests in one course: the anonymised rows share the empty address.
    guests = [_guest(old, "Anna"), _guest(old, "Bjørn", S.NO_SHOW),
              _guest(old, "Cato", S.CANCELLED)]
    awaiting = register(old, member(host, name="Per Venter"), S.PENDING)
    kept_guest = _guest(recent, "Nora")
    statistics = _statistics()

    assert retention.participants(db.session, now) == 5
    db.session.commit()
    db.session.expire_all()
    for anonymised in (mine, *guests, awaiting):
        assert (anonymised.user_id, anonymised.name, anonymised.email, anonymised.phone,
                anonymised.comment, anonymised.employer_name) == (None, "", "", "", "", "")
        assert anonymised.email_confirmed_at is None
    assert mine.employer_organisation_id == host.id
    assert [(e.to_state, e.actor_id, e.note) for e in mine.events] == [("attended", None, "")]
    assert (kept_member.user_id, kept_member.comment) == (person.id, "Hilsen Mona")
    assert kept_guest.email == "nora@gjest.example.net" and kept_guest.email_confirmed_at
    assert _statistics() == statistics
    # The anonymised pending registration is not mistaken for an unconfirmed guest.
    assert retention.unconfirmed_guests(db.session, now + timedelta(days=3)) == 0


def test_outbox_messages_go_the_configured_days_after_sending_or_the_last_attempt(app):
    app.config["RETENTION_OUTBOX_DAYS"] = 7
    now = utcnow()
    cutoff = now - timedelta(days=7)
    old_sent = _message(OutboxStatus.SENT, sent_at=cutoff - MINUTE)
    old_failed = _message(OutboxStatus.FAILED, next_attempt_at=cutoff - MINUTE)
    kept = [_message(OutboxStatus.SENT, sent_at=cutoff + MINUTE),
            _message(OutboxStatus.FAILED, next_attempt_at=cutoff + MINUTE),
            _message(OutboxStatus.PENDING, next_attempt_at=cutoff - timedelta(days=30))]
    gone = {old_sent.id, old_failed.id}

    assert retention.outbox_messages(db.session, now) == 2
    db.session.commit()
    assert set(db.session.scalars(select(OutboxMessage.id))) == {m.id for m in kept}
    assert not set(db.session.scalars(select(OutboxAttachment.message_id))) & gone
    assert db.session.scalar(select(func.count()).select_from(OutboxAttachment)) == 3


def test_audit_addresses_are_removed_after_a_year_and_the_rest_stays(app):
    now = utcnow()
    cutoff = months_before(now, 12)
    organisation = OrganisationFactory()
    details = {"user": "ola@example.org", "role": "admin", "fields": ["name", "x@y.no"],
               "note": "from 192.0.2.1 and 2001:db8::1.", "at": "12:30, v1.2.3"}
    old = _audit(cutoff - MINUTE, organisation, **details)
    recent = _audit(cutoff + MINUTE, organisation, **details)

    assert retention.audit_addresses(db.session, now) == 1
    db.session.commit()
    db.session.expire_all()
    assert old.details == {"user": REMOVED, "role": "admin", "fields": ["name", REMOVED],
                           "note": f"from {REMOVED} and {REMOVED}.", "at": "12:30, v1.2.3"}
    assert (old.action, old.object_type, old.object_id) == ("membership.removed",
                                                            "membership", 7)
    assert recent.details == details


def test_scrub_replaces_addresses_wherever_they_are():
    assert scrub({"a": {"b": ["fe80::1", 3, None, "10.0.0.1"]}}) == {
        "a": {"b": [REMOVED, 3, None, REMOVED]}}
    assert scrub("2001:0db8:0000:0000:0000:0000:0000:0001") == REMOVED
    for harmless in ("Kurs 1.2", "kl. 09:00:00", "deadbeef", "a.b.c.d", "2024-01-31T10:00"):
        assert scrub(harmless) == harmless


def test_invoice_lines_lose_the_person_five_years_after_their_year(app):
    """A line invoiced in 2020 is kept, name and all, until the end of 2025."""
    host, buyer = OrganisationFactory(), OrganisationFactory()
    marker = member(host, Role.ORGANISER)
    lines = {}
    for label, invoiced_at in (("old", datetime(2020, 12, 31, 22, tzinfo=UTC)),
                               ("kept", datetime(2021, 1, 1, 0, 30, tzinfo=UTC))):
        lines[label] = InvoiceLine(
            organisation_id=host.id, buyer_organisation_id=buyer.id, buyer_name=buyer.name,
            participant_name="Petra Person", course_title="Førstehjelp", reference="K-1",
            amount_ore=50_000, invoice_number=f"F-{label}", invoiced_at=invoiced_at,
            invoiced_by_id=marker.id)
        db.session.add(lines[label])
    db.session.commit()
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert retention.invoice_lines(db.session, now) == 1
    assert retention.invoice_lines(db.session, now) == 0  # idempotent
    db.session.commit()
    db.session.expire_all()
    old, kept = lines["old"], lines["kept"]
    assert (old.participant_name, old.reference, old.invoiced_by_id) == ("", "", None)
    assert (old.amount_ore, old.invoice_number, old.buyer_name) == (50_000, "F-old",
                                                                    buyer.name)
    assert (kept.participant_name, kept.reference) == ("Petra Person", "K-1")


def test_retention_settings_have_defaults_and_can_be_changed():
    config = load_config({"SECRET_KEY": "dev-key", "DATABASE_URL": "sqlite://",
                          "RETENTION_OUTBOX_DAYS": "7"})
    assert [config[f"RETENTION_{name}"] for name in
            ("COMMENT_MONTHS", "PARTICIPANT_YEARS", "OUTBOX_DAYS", "AUDIT_MONTHS",
             "INVOICE_YEARS")] == [12, 5, 7, 12, 5]


def test_months_before_keeps_the_day_where_the_month_has_it():
    assert months_before(datetime(2025, 3, 31, 12), 1) == datetime(2025, 2, 28, 12)
    assert months_before(datetime(2024, 1, 15), 60) == datetime(2019, 1, 15)


# All rules together -----------------------------------------------------------------------

def _everything_past_retention(now: datetime):
    """One of everything each rule removes, and some of what it keeps."""
    host = OrganisationFactory()
    organiser = member(host, Role.ORGANISER)
    long_ago = _ended_course(months_before(now, 61), host)
    last_year = _ended_course(months_before(now, 13), host)
    upcoming = CourseFactory(organisation=host, allow_guests=True)
    person = member(host, name="Mona Medlem", email="mona@kommune.example.org")
    _history(register(long_ago, person, S.ATTENDED, phone="+47 Mona", comment="Hilsen Mona"),
             organiser, S.ATTENDED, "marked by the organiser")
    guests = [_guest(long_ago, who, state) for who, state in (
        ("Anna", S.ATTENDED), ("Bjørn", S.NO_SHOW), ("Cato", S.CANCELLED))]
    _certificate(long_ago, guest_registration=guests[0])  # Anna attended
    _certificate(last_year, guest_registration=_guest(last_year, "Dina"))
    register(long_ago, member(host, name="Per Venter", email="per@kommune.example.org"),
             S.PENDING, comment="Hilsen Per")
    _guest(upcoming, "Erik", S.PENDING, confirmed=False, created_at=now - timedelta(days=3))
    _guest(upcoming, "Frida", S.CONFIRMED)
    _message(OutboxStatus.SENT, sent_at=now - timedelta(days=31))
    _message(OutboxStatus.SENT, sent_at=now - timedelta(days=1))
    _audit(months_before(now, 13), host, user="ola@example.org")
    _audit(now, host, user="ola@example.org")
    return upcoming


PERSONAL = ("Mona", "mona@", "Anna", "Bjørn", "Cato", "per@", "Venter")


def test_dry_run_counts_what_purge_does_which_then_has_nothing_left_to_do(app):
    now = utcnow()
    upcoming = _everything_past_retention(now)
    tables = (Registration, RegistrationEvent, OutboxMessage, OutboxAttachment, AuditEvent,
              Certificate)
    before, statistics = _rows(*tables), _statistics(except_course=upcoming)

    planned = purge(db.session, now, dry_run=True)
    db.session.commit()
    assert _rows(*tables) == before
    assert planned == {"unconfirmed guest registrations": 1,
                       "registration comments and phone numbers": 6,
                       "participants of ended courses anonymised": 5,
                       "guest certificates of anonymised registrations": 1,
                       "outbox messages": 1, "audit-log addresses": 1,
                       "disabled accounts deleted": 0,
                       "invoice lines past the accounting period": 0}

    assert purge(db.session, now) == planned
    db.session.commit()
    assert set(purge(db.session, now).values()) == {0}
    db.session.commit()
    assert _statistics(except_course=upcoming) == statistics
    stored = repr(_rows(Registration, RegistrationEvent, Certificate))
    assert not [value for value in PERSONAL if value in stored]
    assert "Dina" in stored and "Frida" in stored  # newer than the retention periods


def test_the_command_and_housekeeping_apply_the_rules(app):
    _everything_past_retention(utcnow())
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["privacy", "purge", "--dry-run"]).output
    assert "participants of ended courses anonymised: 5 would be changed" in dry
    assert "outbox messages: 1 would be changed" in dry
    real = runner.invoke(args=["privacy", "purge"]).output
    assert "participants of ended courses anonymised: 5 changed" in real
    assert "audit-log addresses: 1 changed" in real
    again = runner.invoke(args=["privacy", "purge"]).output
    assert again.count(": 0 changed") == len(retention.RULES)
    assert set(run_all(db.session).values()) == {0}


def test_housekeeping_applies_the_retention_rules(app):
    _message(OutboxStatus.SENT, sent_at=utcnow() - timedelta(days=31))
    assert run_all(db.session)["outbox messages"] == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
