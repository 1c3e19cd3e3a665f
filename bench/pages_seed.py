"""Seeding for bench/pages_bench.py: the demo tenants plus N generated courses.

Migrates a fresh database, loads the demo seed (organisations, people, vocabulary), then
bulk-inserts N courses with 1–3 sessions each, some registrations, 1,000 employees and
one upcoming course with all 1,000 of them confirmed, and rebuilds the search index.
Rows are written with SQLAlchemy Core ``insert()`` executemany, in batches, with
explicit ids (PostgreSQL sequences are moved past them afterwards).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from bench.search_bench import AUDIENCES, FORMS, SENTENCES, TOPICS
from frikomport.accounts.models import User
from frikomport.billing import fees
from frikomport.courses.models import (
    Category,
    Course,
    CourseSession,
    CourseState,
    Location,
    ServiceArea,
    Visibility,
)
from frikomport.courses.services import finish_past_courses
from frikomport.db import utcnow
from frikomport.demo.seed import seed as demo_seed
from frikomport.extensions import db
from frikomport.registrations.models import Registration, RegistrationEvent, RegistrationState
from frikomport.search import indexer
from frikomport.search.service import backend_for
from frikomport.tenancy.models import Membership, Organisation, Role

BATCH = 5000
BIG_COURSE_PEOPLE = 1000
ORGANISER_EMAIL = "ola.haugen@kongsberg.demo.frikomport.example.org"
FIRST = ["Kari", "Ola", "Ingrid", "Per", "Siri", "Lars", "Marte", "Jonas", "Nora", "Emil",
         "Sofie", "Anders", "Ida", "Henrik", "Maja", "Sindre", "Live", "Even", "Oda", "Åse"]
LAST = ["Nordmann", "Haugen", "Lie", "Bakke", "Berg", "Dahl", "Moen", "Strand", "Solberg",
        "Lund", "Hagen", "Flaten", "Rustad", "Myhre", "Tveit", "Kjos", "Bråten", "Hovde"]
TABLES = ("course", "course_session", "registration", "registration_event", "user_account",
          "membership")


@dataclass
class Seeded:
    big_course_id: int
    organiser_email: str
    slugs: list[str]
    categories: list[str]
    public_ids: list[int]
    seconds: float


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model.__table__), rows[start:start + BATCH])


def _vocabulary(model) -> dict[int, list[int]]:
    by_org: dict[int, list[int]] = {}
    for org_id, item_id in db.session.execute(select(model.organisation_id, model.id)):
        by_org.setdefault(org_id, []).append(item_id)
    return by_org


def _people(rng: random.Random, org_ids: list[int]) -> list[dict]:
    """1,000 confirmed employees spread over the organisations, with memberships."""
    first_id, membership_id, now = _next_id(User), _next_id(Membership), utcnow()
    users, memberships = [], []
    for number in range(BIG_COURSE_PEOPLE):
        org_id = org_ids[number % len(org_ids)]
        users.append({"id": first_id + number, "email": f"ansatt{number}@bench.example.org",
                      "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "phone": "",
                      "job_title": "Ansatt", "password_hash": None, "is_site_admin": False,
                      "is_enabled": True, "email_confirmed_at": now,
                      "home_organisation_id": org_id, "created_at": now})
        memberships.append({"id": membership_id + number, "organisation_id": org_id,
                            "user_id": first_id + number, "role": Role.EMPLOYEE,
                            "created_at": now})
    _insert(User, users)
    _insert(Membership, memberships)
    return users


def _course_row(rng, course_id, org_id, vocab, starts, sessions) -> dict:
    word, topic = rng.choice(TOPICS)
    past = starts < utcnow()
    state = rng.choices([CourseState.PUBLISHED, CourseState.DRAFT, CourseState.CANCELLED],
                        weights=[88, 7, 5])[0]
    if past and state == CourseState.PUBLISHED and rng.random() < 0.5:
        state = CourseState.FINISHED
    categories, areas, locations = (vocab[0].get(org_id) or [None], vocab[1].get(org_id)
                                    or [None], vocab[2].get(org_id) or [None])
    return {
        "id": course_id, "organisation_id": org_id, "content_language": "nb",
        "title": f"{topic} – {rng.choice(FORMS)} {rng.choice(AUDIENCES)}",
        "summary": f"{rng.choice(SENTENCES)} Tema: {word}.",
        "description": "\n\n".join(rng.sample(SENTENCES, 4)),
        "category_id": rng.choice(categories), "service_area_id": rng.choice(areas),
        "location_id": rng.choice(locations), "target_group": rng.choice(AUDIENCES),
        "instructor": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "contact_name": "Kurs",
        "contact_email": "kurs@bench.example.org", "contact_phone": "",
        **_fees(rng, starts), "capacity": rng.randrange(10, 41),
        "reserved_seats": 0, "reserved_until": None, "registration_opens_at": None,
        "registration_closes_at": None, "cancellation_deadline": None,
        "visibility": rng.choices(list(Visibility), weights=[50, 35, 15])[0],
        "state": state, "cancel_reason": "Avlyst" if state == CourseState.CANCELLED else "",
        "starts_at": sessions[0][0], "ends_at": sessions[-1][1], "confirmed_count": 0,
        "waitlist_count": 0, "allow_guests": rng.random() < 0.2, "requires_approval": False,
        "ask_for_comment": True, "created_by_id": None, "created_at": starts - timedelta(days=60),
        "updated_at": starts - timedelta(days=30),
        "published_at": None if state == CourseState.DRAFT else starts - timedelta(days=30),
    }


def _fees(rng: random.Random, starts) -> dict:
    """Most courses are free; the others have the host's, the region's and the guests'
    fee (øre), a free-cancellation date a week before, and usually charge no-shows."""
    host, region, guest = rng.choice([(0, 0, 0)] * 6 + [
        (30_000, 50_000, 80_000), (0, 45_000, 90_000), (150_000, 150_000, 200_000)])
    return {"fee_host_ore": host, "fee_region_ore": region, "fee_guest_ore": guest,
            "free_cancellation_until": starts - timedelta(days=7) if region else None,
            "charge_no_shows": rng.random() < 0.8}


def seated_fee(course: dict, employer_id: int | None, guest: bool) -> dict:
    """The fee fixed when a registration got a seat, as billing.fees.fix_fee does."""
    row = SimpleNamespace(**course)
    kind = fees.kind_for(row, employer_id, guest)
    return {"fee_kind": kind, "fee_ore": fees.fee_of(row, kind)}


def _registration(reg_id, course, user, state, when) -> dict:
    seated = state in (RegistrationState.CONFIRMED, RegistrationState.ATTENDED)
    fee = seated_fee(course, user["home_organisation_id"], guest=False) if seated else {
        "fee_kind": None, "fee_ore": None}
    return {"id": reg_id, "organisation_id": course["organisation_id"],
            "course_id": course["id"], "user_id": user["id"], "name": user["name"],
            "email": user["email"], "phone": "", "employer_organisation_id":
            user["home_organisation_id"], "employer_name": "", "comment": "",
            "own_reference": "", **fee, "charged_cancellation": False,
            "state": state, "email_confirmed_at": None, "queued_at": None,
            "reminder_sent_at": None, "created_at": when, "updated_at": when}


def _courses(rng: random.Random, count: int, org_ids: list[int], users: list[dict]) -> int:
    """N generated courses with sessions and registrations, plus the 1,000-person course;
    return the big course's id."""
    vocab = (_vocabulary(Category), _vocabulary(ServiceArea), _vocabulary(Location))
    course_id, session_id, reg_id = _next_id(Course), _next_id(CourseSession), \
        _next_id(Registration)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    courses, sessions, registrations = [], [], []
    for _ in range(count):
        starts = now + timedelta(days=rng.randrange(-730, 548), hours=rng.randrange(-4, 6))
        times = [(starts + timedelta(weeks=w), starts + timedelta(weeks=w, hours=3))
                 for w in range(rng.choice([1, 1, 1, 2, 3]))]
        course = _course_row(rng, course_id, rng.choice(org_ids), vocab, starts, times)
        for begin, end in times:
            sessions.append({"id": session_id, "organisation_id": course["organisation_id"],
                             "course_id": course_id, "starts_at": begin, "ends_at": end})
            session_id += 1
        if course["state"] != CourseState.DRAFT and rng.random() < 0.3:
            state = RegistrationState.ATTENDED if starts < now else RegistrationState.CONFIRMED
            people = rng.sample(users, rng.randrange(1, 6))
            for user in people:
                registrations.append(_registration(reg_id, course, user, state,
                                                   starts - timedelta(days=10)))
                reg_id += 1
            course["confirmed_count"] = len(people)
        courses.append(course)
        course_id += 1
    big = _course_row(rng, course_id, org_ids[0], vocab, now + timedelta(days=30),
                      [(now + timedelta(days=30), now + timedelta(days=30, hours=6))])
    big.update(title="Fagdag: Demensomsorg for alle ansatte", capacity=BIG_COURSE_PEOPLE,
               confirmed_count=BIG_COURSE_PEOPLE, state=CourseState.PUBLISHED,
               visibility=Visibility.REGION, published_at=now - timedelta(days=20))
    courses.append(big)
    sessions.append({"id": session_id, "organisation_id": big["organisation_id"],
                     "course_id": big["id"], "starts_at": big["starts_at"],
                     "ends_at": big["ends_at"]})
    first_big = reg_id
    for number, user in enumerate(users):
        registrations.append(_registration(reg_id, big, user, RegistrationState.CONFIRMED,
                                           now - timedelta(days=19, minutes=number)))
        reg_id += 1
    _insert(Course, courses)
    _insert(CourseSession, sessions)
    _insert(Registration, registrations)
    event_id = _next_id(RegistrationEvent)
    _insert(RegistrationEvent, [
        {"id": event_id + n, "organisation_id": big["organisation_id"],
         "registration_id": first_big + n, "actor_id": users[n]["id"], "from_state": None,
         "to_state": "confirmed", "note": "", "created_at": now - timedelta(days=19, minutes=n)}
        for n in range(len(users))])
    return big["id"]


def _fix_sequences(tables=TABLES) -> None:
    """Move PostgreSQL's sequences past the explicit ids of ``tables``, and ANALYZE."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def seed_database(app, courses: int, seed: int = 17) -> Seeded:
    """Migrate, load the demo and ``courses`` generated courses, rebuild the index."""
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        demo_seed(db.session)
        db.session.commit()
        orgs = db.session.execute(select(Organisation.id, Organisation.slug)
                                  .order_by(Organisation.id)).all()
        org_ids = [row.id for row in orgs]
        rng = random.Random(seed)
        users = _people(rng, org_ids)
        big = _courses(rng, courses, org_ids, users)
        db.session.commit()
        _fix_sequences()
        finish_past_courses(db.session)  # as the housekeeping job does every few minutes
        db.session.commit()
        print(f"  inserted {courses} courses in {time.perf_counter() - started:.1f} s; "
              "rebuilding the search index …", flush=True)
        count = indexer.rebuild(db.session, backend_for(app))
        if hasattr(backend_for(app), "close"):
            backend_for(app).close()
        names = sorted(set(db.session.scalars(select(Category.name))))
        public = list(db.session.scalars(select(Course.id).where(
            Course.visibility == Visibility.PUBLIC, Course.state == CourseState.PUBLISHED)
            .order_by(Course.id)))
        db.session.remove()
    seconds = time.perf_counter() - started
    print(f"  seeded and indexed {count} courses in {seconds:.1f} s", flush=True)
    public_ids = random.Random(3).sample(public, min(50, len(public)))
    return Seeded(big, ORGANISER_EMAIL, [row.slug for row in orgs], names, public_ids,
                  seconds)
