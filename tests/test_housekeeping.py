"""Unconfirmed guest registrations block nobody and expire; housekeeping purges what has
run out (guests, login sessions, invitations, rate-limit counters) and is idempotent."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from frikomport.accounts.models import LoginSession
from frikomport.courses.models import CourseState
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.housekeeping import ensure_started, run_all
from frikomport.ratelimit.models import RateLimitCounter
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Invitation, Role
from tests.factories import (
    DEFAULT_PASSWORD,
    CourseFactory,
    OrganisationFactory,
    UserFactory,
    in_days,
    member,
)
from tests.helpers import link_in, outbox


def _guest(course, email="gunnar@firma.example.org", **overrides):
    data = {"name": "Gunnar Gjest", "email": email, "phone": "12345678",
            "employer": "Firma AS", "comment": ""} | overrides
    return data


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_guest_who_never_confirms_does_not_block_the_member(client, login):
    organisation = OrganisationFactory()
    course = CourseFactory(organisation=organisation, allow_guests=True, capacity=5)
    employee = member(organisation, email="ansatt@kommune.example.org")
    # Someone types the employee's address into the guest form and never confirms.
    client.post(f"/courses/{course.id}/register/guest",
                data=_guest(course, email=employee.email))
    login(employee)
    assert client.post(f"/courses/{course.id}/register").status_code == 302
    db.session.expire_all()
    mine = db.session.scalar(select(Registration).where(Registration.user_id == employee.id))
    assert mine.state == S.CONFIRMED


def test_the_first_of_two_unconfirmed_guests_to_confirm_wins(app, client):
    course = CourseFactory(organisation=OrganisationFactory(), allow_guests=True)
    for name in ("Første", "Andre"):
        client.post(f"/courses/{course.id}/register/guest", data=_guest(course, name=name))
    first, second = outbox("gunnar@firma.example.org")
    client.get(link_in(second, "/confirm/"))
    refused = client.get(link_in(first, "/confirm/"), follow_redirects=True)
    assert refused.status_code < 500
    assert _count(Registration, Registration.state == S.CONFIRMED) == 1
    assert "allerede påmeldt" in refused.text


def test_unconfirmed_guests_are_purged_after_the_configured_time(app_factory, app):
    short = app_factory(GUEST_CONFIRM_HOURS=2)
    with short.app_context():
        course = CourseFactory(organisation=OrganisationFactory(), allow_guests=True)
        client = short.test_client()
        for email in ("gammel@example.net", "ny@example.net", "bekreftet@example.net"):
            client.post(f"/courses/{course.id}/register/guest", data=_guest(course, email))
        client.get(link_in(outbox("bekreftet@example.net")[0], "/confirm/"))
        old = db.session.scalar(select(Registration).where(
            Registration.email == "gammel@example.net"))
        old.created_at = utcnow() - timedelta(hours=3)
        db.session.commit()

        result = short.test_cli_runner().invoke(args=["registrations", "purge-unconfirmed"])
        assert "1 unconfirmed guest registration(s) deleted" in result.output
        left = {r.email for r in db.session.scalars(select(Registration))}
        assert left == {"ny@example.net", "bekreftet@example.net"}
        again = short.test_cli_runner().invoke(args=["registrations", "purge-unconfirmed"])
        assert "0 unconfirmed" in again.output  # idempotent
        db.session.remove()


def test_housekeeping_removes_only_what_has_run_out(app, client, login):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ADMIN)
    login(admin)
    client.post(f"/o/{organisation.slug}/admin/members",
                data={"email": "ny@example.org", "name": "Ny", "role": "employee"})
    for person in (UserFactory(), UserFactory()):
        login(person, test_client=app.test_client())
    db.session.add_all([
        RateLimitCounter(key="a" * 64, count=3, expires_at=time.time() - 1),
        RateLimitCounter(key="b" * 64, count=3, expires_at=time.time() + 60),
    ])
    ended = CourseFactory(organisation=organisation, sessions=[in_days(-2)])
    upcoming = CourseFactory(organisation=organisation, sessions=[in_days(2)])
    expired_session = db.session.scalars(select(LoginSession)).first()
    expired_session.expires_at = utcnow() - timedelta(minutes=1)
    db.session.scalar(select(Invitation)).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    sessions_before = _count(LoginSession)

    done = run_all(db.session)
    assert done.items() >= {"unconfirmed guest registrations": 0, "expired login sessions": 1,
                            "expired invitations": 1, "expired rate-limit counters": 1,
                            "finished courses": 1}.items()
    assert sum(done.values()) == 4  # nothing else (see tests/test_retention.py)
    assert (ended.state, upcoming.state) == (CourseState.FINISHED, CourseState.PUBLISHED)
    assert _count(LoginSession) == sessions_before - 1
    assert _count(RateLimitCounter) == 1 and _count(Invitation) == 0
    assert set(run_all(db.session).values()) == {0}  # nothing left to do: idempotent

    output = app.test_cli_runner().invoke(args=["housekeeping", "run"]).output
    assert "expired login sessions: 0" in output


def test_the_in_process_thread_does_the_housekeeping(app, client):
    person = UserFactory()
    client.post("/login", data={"email": person.email,
                                "password": DEFAULT_PASSWORD})
    db.session.scalar(select(LoginSession)).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    app.config.update(HOUSEKEEPING_SECONDS=0.05)
    stop = ensure_started(app)
    try:
        assert ensure_started(app) is None  # one thread per app
        for _ in range(100):
            if _count(LoginSession) == 0:
                break
            stop.wait(0.05)
        assert _count(LoginSession) == 0
    finally:
        stop.set()
