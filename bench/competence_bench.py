"""Competence benchmark: the unit matrix, its spreadsheet, the region's demand, My
competence and the expiry reminders, on SQLite and PostgreSQL side by side.

    .venv/bin/python bench/competence_bench.py                       # both databases
    .venv/bin/python bench/competence_bench.py --database sqlite --rounds 5
    .venv/bin/python bench/competence_bench.py --people 2000 --records 10000   # a quick look

Both databases are seeded the same way (bench/competence_seed.py: the demo tenants, then
bulk inserts: ~20,000 employees over the 8 organisations, every one in a unit, ~600
requirements, ~100,000 competence records; two matrix units in Kongsberg of 50 and
1,000 people requiring the region's 10 competences of everyone, ~2 records per person
and competence; one person with 30 records). PostgreSQL is then VACUUM ANALYZEd, as
autovacuum would after the load. Both apps live in this process and are measured in
alternating rounds (A = SQLite, B = PostgreSQL: A, B, then B, A, …), case by case:

- ``matrix``: ``/o/<slug>/units/<id>/matrix`` of the 50 and the 1,000 people, and its
  ``.xlsx`` (each download writes an audit event), as the organisation's admin;
- ``demand``: ``/region/competence-demand?months=6``, as the same admin (the region's
  competences and the organisation's own);
- ``my competence``: ``/me/competence`` as the person with 30 records;
- ``reminders``: ``frikomport.competence.reminders.send_expiry_reminders`` and the
  commit, a first run (every holding that runs out within 60 days is reminded: rows
  claimed, e-mails queued) and a second run right after (nothing left to send); the
  reminder rows and queued e-mails are deleted after each pair, untimed.

Per case and database: median and p90 wall ms, median CPU ms of this process
(``time.process_time``; PostgreSQL's own CPU is not included), SQL statements
(``before_cursor_execute``; for a request the login session's too) and the response
size (for the reminders: how many were sent, and the e-mails queued for them and the
leaders). Requests go through the Flask test client
(no HTTP, no gunicorn). Two untimed warm-up runs per case and database come first. The
machine may be shared: the load average is printed per round; compare the databases,
measured side by side, more than the absolute times.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Helpers shared with the other benches (they need ROOT on the path).
from bench.pages_bench import environment, fresh_postgres, pct  # noqa: E402
from bench.statistics_bench import (  # noqa: E402
    Counter,
    drop_postgres,
    machine,
    postgres_version,
    print_table,
    sqlalchemy_url,
    vacuum_postgres,
)

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/bench_competence"
SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"
REMINDERS_FIRST, REMINDERS_SECOND = "reminders, first run", "reminders, second run"


class Database:
    """One seeded database, its app, the clients logged in to it and its SQL counter."""

    def __init__(self, name: str, kind: str, url: str, workdir: Path):
        from frikomport import create_app
        from frikomport.extensions import db

        environment(kind, sqlalchemy_url(url), workdir)  # the search backend of its kind
        self.name, self.kind, self.url = name, kind, url
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
                               "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        self.clients, self.emails = {}, 0  # e-mails queued by the last first run
        with self.app.app_context():
            self.counter = Counter(db.engine)

    def login(self, who: str, email: str, password: str) -> None:
        """Through the login form; the client keeps the cookie."""
        client = self.app.test_client()
        response = client.post("/login", data={"email": email, "password": password})
        if response.status_code != 302:
            raise SystemExit(f"{self.name}: login as {email} answered {response.status_code}")
        self.clients[who] = client

    def get(self, who: str, path: str) -> tuple[float, float, int, int]:
        """One GET through the test client: wall ms, CPU ms, statements, bytes."""
        calls = self.counter.calls
        wall, cpu = time.perf_counter(), time.process_time()
        response = self.clients[who].get(path)
        size = len(response.get_data())
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if response.status_code != 200:
            raise SystemExit(f"{self.name}: {path} answered {response.status_code}")
        return wall * 1000, cpu * 1000, self.counter.calls - calls, size

    def reminders(self) -> list[tuple[float, float, int, int]]:
        """The first and the second run of the reminders, each with its commit (wall ms,
        CPU ms, statements, reminders sent); then what they wrote is deleted (the number
        of e-mails queued, the leaders' included, is kept in ``emails``)."""
        from sqlalchemy import delete, func, select

        from frikomport.competence.models import ReminderSent
        from frikomport.competence.reminders import send_expiry_reminders
        from frikomport.extensions import db
        from frikomport.notifications.models import OutboxMessage

        measured = []
        with self.app.app_context():
            marks = [(model, db.session.scalar(select(func.max(model.id))) or 0)
                     for model in (ReminderSent, OutboxMessage)]
            db.session.commit()
            db.session.connection()  # check out a pooled connection before the clock
            for _ in range(2):
                calls = self.counter.calls
                wall, cpu = time.perf_counter(), time.process_time()
                sent = send_expiry_reminders(db.session)
                db.session.commit()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                measured.append((wall * 1000, cpu * 1000, self.counter.calls - calls, sent))
            self.emails = db.session.scalar(select(func.count(OutboxMessage.id)).where(
                OutboxMessage.id > marks[1][1]))
            for model, mark in marks:
                db.session.execute(delete(model).where(model.id > mark))
            db.session.commit()
            db.session.remove()
        return measured

    def dispose(self) -> None:
        from frikomport.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def seed(kind: str, url: str, workdir: Path, args) -> dict:
    from bench.competence_seed import seed_database
    from frikomport import create_app
    from frikomport.extensions import db

    if kind == "postgresql":
        fresh_postgres(url)
    environment(kind, sqlalchemy_url(url), workdir)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    seeded = seed_database(app, args.people, args.records, args.requirements,
                           args.small, args.large, args.mine)
    if kind == "postgresql":
        started = time.perf_counter()
        vacuum_postgres(url)
        seeded["timings"]["vacuum analyze"] = time.perf_counter() - started
    with app.app_context():
        seeded["admin"] = admin_of(seeded["slug"])
        seeded["unit_people"] = unit_people(seeded["matrix_units"])
        db.session.remove()
        db.engine.dispose()
    return seeded


def admin_of(slug: str) -> str:
    """The e-mail address of an admin (with a password) of the organisation."""
    from sqlalchemy import select

    from frikomport.accounts.models import User
    from frikomport.extensions import db
    from frikomport.tenancy.models import Membership, Organisation, Role

    admin = db.session.scalar(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Organisation.slug == slug, Membership.role == Role.ADMIN,
               User.password_hash.is_not(None), User.is_enabled).order_by(User.id))
    if admin is None:
        raise SystemExit(f"no admin with a password in {slug}")
    return admin


def unit_people(units: dict[int, int]) -> dict[int, int]:
    """Size asked for → the enabled people in that matrix unit (the matrix's rows)."""
    from sqlalchemy import func, select

    from frikomport.accounts.models import User
    from frikomport.extensions import db
    from frikomport.tenancy.models import Membership

    return {size: db.session.scalar(
        select(func.count()).select_from(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.unit_id == unit_id, User.is_enabled))
        for size, unit_id in units.items()}


def cases(seeded: dict) -> list[tuple[str, str, str]]:
    """``(label, who, path)`` of the requests; the reminders follow them."""
    slug, units, people = seeded["slug"], seeded["matrix_units"], seeded["unit_people"]
    found = []
    for extension in ("", ".xlsx"):
        for size, unit_id in units.items():
            found.append((f"matrix{extension}, {people[size]:,} people", "admin",
                          f"/o/{slug}/units/{unit_id}/matrix{extension}"))
    found.append(("demand, 6 months", "admin", "/region/competence-demand?months=6"))
    found.append(("my competence", "mine", "/me/competence"))
    return found


def measure(databases: list[Database], requests: dict[str, list[tuple[str, str, str]]],
            rounds: int) -> dict:
    """Alternating rounds: each case on A then B, the next round B then A. ``requests``:
    database name → its ``(label, who, path)`` (the same labels in the same order)."""
    labels = [label for label, _, _ in requests[databases[0].name]]
    results = {(label, d.name): {"wall": [], "cpu": [], "sql": set(), "size": []}
               for label in [*labels, REMINDERS_FIRST, REMINDERS_SECOND] for d in databases}
    loads = []

    def one(database: Database, case: str | None, record: bool) -> None:
        """One case (None: every one) on one database."""
        measured = [(label, database.get(who, path))
                    for label, who, path in requests[database.name]
                    if case in (None, label)]
        if case in (None, REMINDERS_FIRST):
            measured += zip((REMINDERS_FIRST, REMINDERS_SECOND), database.reminders(),
                            strict=True)
        if not record:
            return
        for label, (wall, cpu, sql, size) in measured:
            row = results[(label, database.name)]
            row["wall"].append(wall)
            row["cpu"].append(cpu)
            row["sql"].add(sql)
            row["size"].append(size)

    for database in databases:  # warm-up: imports, templates, pools, the database's cache
        for _ in range(2):
            one(database, None, record=False)
    for number in range(rounds):
        order = databases if number % 2 == 0 else list(reversed(databases))
        for case in [*labels, REMINDERS_FIRST]:
            for database in order:
                one(database, case, record=True)
        loads.append(os.getloadavg()[0])
        print(f"  round {number + 1}/{rounds} done, load average {loads[-1]:.2f}", flush=True)
    return {"results": results, "loads": loads, "rounds": rounds}


def report(measured: dict, seeded: dict, databases: list[Database], markdown: bool) -> None:
    loads = measured["loads"]
    print(f"\n{measured['rounds']} rounds, load average (1 min) per round "
          f"{min(loads):.2f}–{max(loads):.2f}")
    names = list(seeded)
    head = ["data", *names]
    rows = [[what, *(f"{seeded[name]['sizes'][what]:,}" for name in names)]
            for what in seeded[names[0]]["sizes"]]
    rows += [[f"matrix unit of {size:,}: people", *(
        f"{seeded[name]['unit_people'][size]:,}" for name in names)]
        for size in seeded[names[0]]["unit_people"]]
    print_table(head, rows, markdown, labels=1)
    print()
    head = ["case", "database", "median ms", "p90 ms", "CPU ms", "SQL", "KiB / sent"]
    rows = []
    for (label, name), row in measured["results"].items():
        size = f"{statistics.median(row['size']) / 1024:,.0f}"
        if label.startswith("reminders"):
            size = f"{statistics.median(row['size']):,.0f}"
        if label == REMINDERS_FIRST:
            emails = next(d.emails for d in databases if d.name == name)
            size += f" ({emails:,} e-mails)"
        rows.append([label, name, f"{statistics.median(row['wall']):,.0f}",
                     f"{pct(row['wall'], 0.9):,.0f}", f"{statistics.median(row['cpu']):,.0f}",
                     "/".join(str(n) for n in sorted(row["sql"])), size])
    print_table(head, rows, markdown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgresql-url", default=PG_DEFAULT)
    parser.add_argument("--people", type=int, default=20_000,
                        help="employees generated, all in units (the matrix units' too)")
    parser.add_argument("--records", type=int, default=100_000,
                        help="competence records in all (the demo's included)")
    parser.add_argument("--requirements", type=int, default=600,
                        help="requirements in all (the demo's included)")
    parser.add_argument("--small", type=int, default=50, help="people in the small matrix unit")
    parser.add_argument("--large", type=int, default=1000,
                        help="people in the large matrix unit")
    parser.add_argument("--mine", type=int, default=30,
                        help="records of the person of /me/competence")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.postgresql_url.rsplit("/", 1)[1] in ("test", "postgres"):
        parser.error("use a database of the bench's own, not test or postgres")
    print(machine())
    logging.disable(logging.INFO)  # the migrations' progress
    started = time.perf_counter()
    from frikomport.demo.seed import DEMO_PASSWORD

    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    workdir = Path(tempfile.mkdtemp(prefix="competence-bench-"))
    urls = {"sqlite": f"sqlite:///{workdir / 'bench.db'}", "postgresql": args.postgresql_url}
    names = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
    seeded, databases = {}, []
    try:
        for kind in kinds:
            version = (f" {postgres_version(urls[kind].rsplit('/', 1)[0] + '/postgres')}"
                       if kind == "postgresql" else "")
            print(f"\n== seeding {names[kind]}{version}: {args.people:,} people, "
                  f"{args.records:,} records, {args.requirements:,} requirements ==",
                  flush=True)
            found = seed(kind, urls[kind], workdir, args)
            seeded[names[kind]] = found
            print("  " + ", ".join(f"{what} {n:,}" for what, n in found["sizes"].items())
                  + "\n  " + ", ".join(f"{step} {seconds:.1f} s"
                                       for step, seconds in found["timings"].items()),
                  flush=True)
        for kind in kinds:
            database = Database(names[kind], kind, urls[kind], workdir)
            databases.append(database)
            found = seeded[database.name]
            database.login("admin", found["admin"], DEMO_PASSWORD)
            database.login("mine", found["mine_email"], DEMO_PASSWORD)
        first = seeded[databases[0].name]
        print(f"\nlogged in as {first['admin']} (admin of {first['slug']}) and "
              f"{first['mine_email']}; measuring", flush=True)
        begun = time.perf_counter()
        measured = measure(databases, {d.name: cases(seeded[d.name]) for d in databases},
                           args.rounds)
        print(f"  measured in {time.perf_counter() - begun:.0f} s")
        report(measured, seeded, databases, args.markdown)
    finally:
        for database in databases:
            database.dispose()
        if "postgresql" in kinds and not args.keep:
            drop_postgres(urls["postgresql"])
        if args.keep:
            print(f"  kept {workdir}" + (f" and {urls['postgresql']}"
                                         if "postgresql" in kinds else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\ntotal time {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
