"""Seeding for bench/competence_bench.py: the demo tenants plus units, requirements,
employees and competence records at the size of a region.

Migrates a fresh database and loads the demo seed (the 8 municipalities, their people,
the region's competence catalogue and the demo's own units), then bulk-inserts (Core
``insert()`` executemany in batches of 5,000 with explicit ids, as bench/pages_seed.py):

- ordinary units over the 8 organisations (weighted as bench/statistics_seed.py, the
  kinds of bench unit the demo has: home care, care home, kindergarten, office), each
  with its kind's requirements (some for a job title), until the database holds about
  ``requirements`` requirements;
- two matrix units in the biggest organisation (Kongsberg), of ``small`` and ``large``
  people, each requiring the region's 10 competences of everyone, with about 2 records
  per person and competence (0–4);
- ``people`` employees in all (the matrix units' people included), every one a member
  of one unit with a job title of its kind; the first member of each unit leads it;
- competence records until the database holds about ``records``: the rest go to
  people of the ordinary units, mostly of what their unit requires; course records and
  certificates from elsewhere (some pending or rejected), valid from a day in the last
  four years for the competence's validity;
- one person with ``mine`` records (3 per competence, some pending), in a home care
  unit, with the demo password (to log in to /me/competence).
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from itertools import cycle

from flask_migrate import upgrade
from sqlalchemy import func, select

from bench.pages_seed import FIRST, LAST, _fix_sequences, _insert, _next_id
from bench.statistics_seed import WEIGHTS
from frikomport.accounts.models import User
from frikomport.competence.models import (
    Competence,
    CompetenceRecord,
    RecordSource,
    RecordStatus,
    Requirement,
)
from frikomport.competence.records import add_months, today
from frikomport.db import utcnow
from frikomport.demo.competence import KINDS
from frikomport.demo.seed import seed as demo_seed
from frikomport.extensions import db
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.units.models import Unit, UnitLeader

TABLES = ("user_account", "membership", "unit", "unit_leader", "competence_requirement",
          "competence_record")
DOMAIN = "kompetanse.bench.example.org"
MINE_EMAIL = f"min.kompetanse@{DOMAIN}"
# Records per person and competence in the matrix units (mean 2.05).
PER_PAIR = ([0, 1, 2, 3, 4], [10, 20, 35, 25, 10])
HISTORY_DAYS = 4 * 365


class Ids:
    """Explicit ids for the rows of one table, from its current maximum on."""

    def __init__(self, model):
        self.next = _next_id(model)

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def _competences() -> tuple[list[tuple[int, int | None]], dict[tuple[int | None, str], int]]:
    """The region's catalogue as ``(id, validity months)`` by id, and every competence's
    id by ``(organisation id or None, name)``."""
    rows = db.session.execute(select(Competence.id, Competence.organisation_id,
                                     Competence.name, Competence.validity_months)
                              .order_by(Competence.id)).all()
    region = [(row.id, row.validity_months) for row in rows if row.organisation_id is None]
    return region, {(row.organisation_id, row.name): row.id for row in rows}


class World:
    """What is generated, as rows, before it is inserted."""

    def __init__(self, rng: random.Random):
        self.rng, self.now, self.on = rng, utcnow(), today()
        self.users, self.memberships, self.units, self.leaders = [], [], [], []
        self.requirements, self.records = [], []
        self.ids = {model: Ids(model) for model in (User, Membership, Unit, UnitLeader,
                                                    Requirement, CompetenceRecord)}
        self.validity: dict[int, int | None] = {}  # competence id → months (None: for good)
        self.led: set[int] = set()

    def unit(self, organisation_id: int, name: str) -> int:
        unit_id = self.ids[Unit].take()
        self.units.append({"id": unit_id, "organisation_id": organisation_id, "name": name,
                           "created_at": self.now})
        return unit_id

    def require(self, organisation_id: int, unit_id: int, competence_id: int,
                job_title: str) -> None:
        self.requirements.append({"id": self.ids[Requirement].take(),
                                  "organisation_id": organisation_id, "unit_id": unit_id,
                                  "competence_id": competence_id, "job_title": job_title,
                                  "created_at": self.now})

    def person(self, organisation_id: int, unit_id: int, job_title: str,
               email: str | None = None, password_hash: str | None = None,
               enabled: bool = True) -> int:
        """An employee in the unit (its first one leads it)."""
        user_id = self.ids[User].take()
        rng = self.rng
        self.users.append({"id": user_id, "email": email or f"ansatt{user_id}@{DOMAIN}",
                           "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "phone": "",
                           "job_title": job_title, "password_hash": password_hash,
                           "is_site_admin": False, "is_enabled": enabled,
                           "email_confirmed_at": self.now,
                           "home_organisation_id": organisation_id, "created_at": self.now})
        self.memberships.append({"id": self.ids[Membership].take(),
                                 "organisation_id": organisation_id, "user_id": user_id,
                                 "role": Role.EMPLOYEE, "unit_id": unit_id,
                                 "created_at": self.now})
        if unit_id not in self.led:
            self.led.add(unit_id)
            self.leaders.append({"id": self.ids[UnitLeader].take(),
                                 "organisation_id": organisation_id, "unit_id": unit_id,
                                 "user_id": user_id, "created_at": self.now})
        return user_id

    def record(self, user_id: int, competence_id: int, organisation_id: int,
               status: RecordStatus | None = None) -> None:
        """A course record (85 %) or a certificate from elsewhere, from a day in the last
        four years."""
        rng = self.rng
        valid_from = self.on - timedelta(days=rng.randrange(HISTORY_DAYS))
        months = self.validity[competence_id]
        external = rng.random() < 0.15 or status is not None
        if status is None:
            status = (rng.choices([RecordStatus.APPROVED, RecordStatus.PENDING,
                                   RecordStatus.REJECTED], [80, 15, 5])[0] if external
                      else RecordStatus.APPROVED)
        self.records.append({
            "id": self.ids[CompetenceRecord].take(), "user_id": user_id,
            "competence_id": competence_id,
            "source": RecordSource.EXTERNAL if external else RecordSource.COURSE,
            "status": status, "valid_from": valid_from,
            "valid_until": None if months is None else add_months(valid_from, months),
            "registration_id": None,
            "title": "Kompetansebevis" if external else "Kurs i regi av kommunen",
            "issuer": "Ekstern kursleverandør" if external else "Kommunen",
            "organisation_id": organisation_id if external else None,
            "filename": "bevis.pdf" if external else "", "stored_name": "",
            "content_type": "application/pdf" if external else "",
            "decided_by_id": None, "decided_at": None, "decision_note": "",
            "created_at": self.now - timedelta(days=(self.on - valid_from).days)})


def _ordinary_units(world: World, org_ids: list[int], by_name, wanted: int) -> list[tuple]:
    """Units of the demo's kinds over the organisations until ``wanted`` requirements;
    answer ``(organisation id, unit id, job titles, required competence ids)``."""
    made, kinds = [], cycle(KINDS.items())
    counters = dict.fromkeys(org_ids, 0)
    while len(world.requirements) < wanted:
        organisation_id = world.rng.choices(org_ids, WEIGHTS[:len(org_ids)])[0]
        kind, (titles, required) = next(kinds)
        counters[organisation_id] += 1
        unit_id = world.unit(organisation_id, f"Benk {kind} {counters[organisation_id]}")
        competence_ids = set()
        for name, job_title in required:
            competence_id = by_name.get((None, name)) or by_name.get((organisation_id, name))
            if competence_id:
                world.require(organisation_id, unit_id, competence_id, job_title)
                competence_ids.add(competence_id)
        made.append((organisation_id, unit_id, titles, sorted(competence_ids)))
    return made


def generate(rng: random.Random, people: int, records: int, requirements: int,
             small: int, large: int, mine: int) -> tuple[World, dict]:
    org_ids = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
    region, by_name = _competences()
    world = World(rng)
    world.validity = dict(db.session.execute(select(Competence.id,
                                                    Competence.validity_months)).all())
    region_ids = [competence_id for competence_id, _ in region][:10]
    existing = {"requirements": db.session.scalar(select(func.count(Requirement.id))),
                "records": db.session.scalar(select(func.count(CompetenceRecord.id)))}
    biggest = org_ids[0]
    matrix_units = {}
    for size in (small, large):  # the matrix units: 10 competences required of everyone
        unit_id = world.unit(biggest, f"Matrise {size}")
        for competence_id in region_ids:
            world.require(biggest, unit_id, competence_id, "")
        for _ in range(size):
            user_id = world.person(biggest, unit_id, rng.choice(KINDS["home"][0]))
            for competence_id in region_ids:
                for _ in range(rng.choices(*PER_PAIR)[0]):
                    world.record(user_id, competence_id, biggest)
        matrix_units[size] = unit_id
    units = _ordinary_units(world, org_ids, by_name,
                            max(requirements - existing["requirements"],
                                len(world.requirements) + 1))
    weights = [rng.choice(WEIGHTS) for _ in units]
    placed = []  # (user id, organisation id, competence ids of the unit)
    for _ in range(max(people - small - large - 1, 0)):
        organisation_id, unit_id, titles, competence_ids = rng.choices(units, weights)[0]
        user_id = world.person(organisation_id, unit_id, rng.choice(titles),
                               enabled=rng.random() > 0.005)
        placed.append((user_id, organisation_id, competence_ids))
    # The person of /me/competence (after the others: the first of a unit leads it), with
    # the demo's password.
    home = next((unit for unit in units if unit[0] == biggest
                 and unit[2] == KINDS["home"][0]), units[0])
    password_hash = db.session.scalar(select(User.password_hash).where(
        User.password_hash.is_not(None), User.is_site_admin.is_(False)).order_by(User.id))
    mine_id = world.person(home[0], home[1], "Sykepleier", MINE_EMAIL, password_hash)
    for competence_id in region_ids:
        for number in range(mine // len(region_ids)):
            world.record(mine_id, competence_id, home[0],
                         RecordStatus.PENDING if number == 0 and competence_id % 3 == 0
                         else None)
    for _ in range(max(records - existing["records"] - len(world.records), 0)
                   if placed else 0):
        user_id, organisation_id, competence_ids = rng.choice(placed)
        competence_id = (rng.choice(competence_ids) if competence_ids and rng.random() < 0.8
                         else rng.choice(region_ids))
        world.record(user_id, competence_id, organisation_id)
    slug = db.session.scalar(select(Organisation.slug).where(Organisation.id == biggest))
    return world, {"slug": slug, "matrix_units": matrix_units, "mine_email": MINE_EMAIL}


def sizes() -> dict[str, int]:
    """What the database holds (the demo's rows included)."""
    count = db.session.scalar
    return {
        "organisations": count(select(func.count(Organisation.id))),
        "people in units": count(select(func.count(Membership.id))
                                 .where(Membership.unit_id.is_not(None))),
        "units": count(select(func.count(Unit.id))),
        "requirements": count(select(func.count(Requirement.id))),
        "records": count(select(func.count(CompetenceRecord.id))),
        "holdings": count(select(func.count()).select_from(
            select(CompetenceRecord.user_id, CompetenceRecord.competence_id)
            .where(CompetenceRecord.status == RecordStatus.APPROVED).distinct().subquery())),
    }


def seed_database(app, people: int, records: int, requirements: int, small: int = 50,
                  large: int = 1000, mine: int = 30, seed: int = 29) -> dict:
    """Migrate, load the demo and the generated rows; return what the bench needs, the
    sizes and the timings."""
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        demo_seed(db.session)
        db.session.commit()
        migrated = time.perf_counter()
        world, found = generate(random.Random(seed), people, records, requirements,
                                small, large, mine)
        generated = time.perf_counter()
        _insert(Unit, world.units)
        _insert(Requirement, world.requirements)
        _insert(User, world.users)
        _insert(Membership, world.memberships)
        _insert(UnitLeader, world.leaders)
        _insert(CompetenceRecord, world.records)
        db.session.commit()
        inserted = time.perf_counter()
        _fix_sequences(TABLES)
        found["sizes"] = sizes()
        db.session.remove()
    found["timings"] = {"migrate + demo": migrated - started,
                        "generate rows": generated - migrated,
                        "bulk insert": inserted - generated,
                        "total": time.perf_counter() - started}
    return found

