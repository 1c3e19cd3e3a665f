"""Seeding for bench/statistics_bench.py: the demo tenants plus N courses and M
registrations spread over three years past and one year ahead.

Migrates a fresh database, loads the demo seed (the 8 municipalities, their people and
vocabulary), then bulk-inserts (Core ``insert()`` executemany in batches of 5,000, with
explicit ids, as bench/pages_seed.py) 6,000 employees with memberships, N courses with 1–3
sessions (bench/pages_seed.py's rows: states, fees, categories, service areas), and M
registrations: members of all 8 organisations (Kongsberg the biggest), people without an
employer, guests; past courses mostly attended, with no-shows, cancellations (some
charged), people left on the waiting list; upcoming ones confirmed, waiting, pending.
Fees are fixed on seated registrations as billing.fees.fix_fee does. No search index.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import select

from bench.pages_seed import (
    FIRST,
    LAST,
    _course_row,
    _fix_sequences,
    _insert,
    _next_id,
    _vocabulary,
    seated_fee,
)
from frikomport.accounts.models import User
from frikomport.courses.models import (
    Category,
    Course,
    CourseSession,
    CourseState,
    Location,
    ServiceArea,
)
from frikomport.db import utcnow
from frikomport.demo.seed import seed as demo_seed
from frikomport.extensions import db
from frikomport.registrations.models import Registration
from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Membership, Organisation, Role

PEOPLE = 6000
# The demo municipalities in the order the seed makes them (Kongsberg first, the biggest).
WEIGHTS = [30, 14, 16, 7, 5, 6, 6, 12]
PAST = ([S.ATTENDED, S.NO_SHOW, S.CANCELLED, S.WAITLISTED, S.CONFIRMED, S.REJECTED, S.PENDING],
        [68, 6, 12, 5, 4, 2, 3])
UPCOMING = ([S.CONFIRMED, S.WAITLISTED, S.CANCELLED, S.PENDING, S.REJECTED],
            [70, 10, 12, 6, 2])
SEATED = (S.CONFIRMED, S.ATTENDED, S.NO_SHOW)


def _people(rng: random.Random, org_ids: list[int]) -> list[dict]:
    """Employees of the organisations (weighted), 3 % without an employer."""
    first_id, membership_id, now = _next_id(User), _next_id(Membership), utcnow()
    users, memberships = [], []
    for number in range(PEOPLE):
        org_id = rng.choices(org_ids, WEIGHTS[:len(org_ids)])[0] if rng.random() > 0.03 \
            else None
        users.append({"id": first_id + number, "email": f"deltaker{number}@bench.example.org",
                      "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "phone": "",
                      "job_title": "Ansatt", "password_hash": None, "is_site_admin": False,
                      "is_enabled": True, "email_confirmed_at": now,
                      "home_organisation_id": org_id, "created_at": now})
        if org_id is not None:
            memberships.append({"id": membership_id + len(memberships),
                                "organisation_id": org_id, "user_id": first_id + number,
                                "role": Role.EMPLOYEE, "created_at": now})
    _insert(User, users)
    _insert(Membership, memberships)
    return users


def _courses(rng: random.Random, count: int, org_ids: list[int]) -> list[dict]:
    vocab = (_vocabulary(Category), _vocabulary(ServiceArea), _vocabulary(Location))
    course_id, session_id = _next_id(Course), _next_id(CourseSession)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    courses, sessions = [], []
    for _ in range(count):
        starts = now + timedelta(days=rng.randrange(-3 * 365, 365), hours=rng.randrange(-4, 6))
        times = [(starts + timedelta(weeks=w), starts + timedelta(weeks=w, hours=rng.choice(
            [1.5, 2, 3, 3, 6.5]))) for w in range(rng.choice([1, 1, 1, 2, 3]))]
        org_id = rng.choices(org_ids, WEIGHTS[:len(org_ids)])[0]
        course = _course_row(rng, course_id, org_id, vocab, starts, times)
        if course["state"] == CourseState.PUBLISHED and starts < now:
            course["state"] = CourseState.FINISHED  # the housekeeping job's work
        courses.append(course)
        sessions += [{"id": session_id + n, "organisation_id": org_id, "course_id": course_id,
                      "starts_at": begin, "ends_at": end} for n, (begin, end) in enumerate(times)]
        session_id += len(times)
        course_id += 1
    return courses, sessions


def _registrations(rng: random.Random, total: int, courses: list[dict],
                   users: list[dict]) -> list[dict]:
    """``total`` registrations over the courses that are not drafts, by capacity."""
    open_courses = [c for c in courses if c["state"] != CourseState.DRAFT]
    weights = [c["capacity"] * rng.random() for c in open_courses]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    for index in rng.sample(range(len(sizes)), total - sum(sizes)):
        sizes[index] += 1
    now, reg_id, guest_number, rows = utcnow(), _next_id(Registration), 0, []
    for course, size in zip(open_courses, sizes, strict=True):
        past, cancelled = course["starts_at"] < now, course["state"] == CourseState.CANCELLED
        states, weights = PAST if past else UPCOMING
        seated = waiting = 0
        for user in rng.sample(users, size):
            guest = rng.random() < 0.08
            state = S.CANCELLED if cancelled else rng.choices(states, weights)[0]
            employer = None if guest else user["home_organisation_id"]
            was_seated = state in SEATED or (state == S.CANCELLED and rng.random() < 0.5)
            fee = (seated_fee(course, employer, guest) if was_seated
                   else {"fee_kind": None, "fee_ore": None})
            queued = state == S.WAITLISTED or (state != S.PENDING and rng.random() < 0.1)
            when = course["starts_at"] - timedelta(days=rng.randrange(1, 60))
            if guest:
                guest_number += 1
            rows.append({
                "id": reg_id, "organisation_id": course["organisation_id"],
                "course_id": course["id"], "user_id": None if guest else user["id"],
                "name": "Gjest Gjestesen" if guest else user["name"],
                "email": f"gjest{guest_number}@firma.example.org" if guest else user["email"],
                "phone": "", "employer_organisation_id": employer,
                "employer_name": "Firma AS" if guest else "", "comment": "",
                "own_reference": "", **fee,
                "charged_cancellation": bool(
                    state == S.CANCELLED and not cancelled and fee["fee_ore"]
                    and course["free_cancellation_until"] and rng.random() < 0.3),
                "state": state, "email_confirmed_at": when if guest else None,
                "queued_at": when if queued else None, "reminder_sent_at": None,
                "created_at": when, "updated_at": when})
            reg_id += 1
            seated += state in SEATED
            waiting += state == S.WAITLISTED
        course["confirmed_count"] = min(seated, course["capacity"])
        course["waitlist_count"] = waiting
    return rows


def seed_database(app, courses: int, registrations: int, seed: int = 17) -> dict:
    """Migrate, load the demo and the generated rows; return the sizes and timings."""
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        demo_seed(db.session)
        db.session.commit()
        org_ids = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
        migrated = time.perf_counter()
        rng = random.Random(seed)
        users = _people(rng, org_ids)
        course_rows, session_rows = _courses(rng, courses, org_ids)
        registration_rows = _registrations(rng, registrations, course_rows, users)
        generated = time.perf_counter()
        _insert(Course, course_rows)
        _insert(CourseSession, session_rows)
        _insert(Registration, registration_rows)
        db.session.commit()
        inserted = time.perf_counter()
        _fix_sequences()  # and ANALYZE, on PostgreSQL
        db.session.remove()
    timings = {"migrate + demo": migrated - started, "generate rows": generated - migrated,
               "bulk insert": inserted - generated,
               "sequences + analyze": time.perf_counter() - inserted,
               "total": time.perf_counter() - started}
    return {"courses": len(course_rows), "sessions": len(session_rows),
            "registrations": len(registration_rows), "people": len(users),
            "timings": timings}
