"""Statistics benchmark (issue 13): services.build at 50,000 courses and 500,000
registrations, with and without the covering indexes of migration e8a2c6f1b5d7.

    .venv/bin/python bench/statistics_bench.py                       # both databases
    .venv/bin/python bench/statistics_bench.py --database sqlite --rounds 5
    .venv/bin/python bench/statistics_bench.py --courses 5000 --registrations 50000

Per database a fresh one is seeded (bench/statistics_seed.py: the demo tenants, N
courses over three years past and one ahead, M registrations in every state, bulk
inserts) and copied; the copy gets the indexes as they were before the migration
(``ix_registration_course_state`` instead of the two covering ones). Then, in
alternating rounds (A = covering indexes, B = without; A, B, then B, A, …), for each
case one ``services.build`` is timed: the host view of the biggest organisation this
year, its employer view this year, the region this year, and the region over the last
three years. Per case and variant: median and p90 wall ms, median CPU ms of this process
(``time.process_time``; PostgreSQL's own CPU is not included) and the SQL statements
(``before_cursor_execute``). Then the query plans of the two queries (``EXPLAIN QUERY
PLAN`` / PostgreSQL's ``EXPLAIN (ANALYZE, BUFFERS)``) with and without the indexes.

The issue's target is the statistics page under 300 ms at this size; this measures the
figures (the queries and the rollup) that the page, its charts and spreadsheets share,
not the rendering.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/stats_bench"
TARGET_MS = 300
COVERING = ("ix_registration_statistics", "ix_registration_employer_statistics")
# The index as it was before migration e8a2c6f1b5d7 (its downgrade).
BEFORE = "CREATE INDEX ix_registration_course_state ON registration (course_id, state)"
WITH, WITHOUT = "covering", "without"


def sqlalchemy_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def fresh_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if name in ("test", "postgres"):
        raise SystemExit("refusing to use the database test or postgres")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def copy_without_indexes(kind: str, url: str, workdir: Path) -> str:
    """A copy of the seeded database with the indexes as before the migration."""
    statements = [f"DROP INDEX {name}" for name in COVERING] + [BEFORE]
    if kind == "sqlite":
        source = url.removeprefix("sqlite:///")
        with sqlite3.connect(source) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        target = workdir / "without.db"
        shutil.copyfile(source, target)
        with sqlite3.connect(target) as conn:
            for statement in statements:
                conn.execute(statement)
        return f"sqlite:///{target}"
    import psycopg

    base, name = url.rsplit("/", 1)
    copy = f"{name}_without"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    with psycopg.connect(f"{base}/{copy}", autocommit=True) as conn:
        for statement in [*statements, "VACUUM ANALYZE registration"]:
            conn.execute(statement)
    return f"{base}/{copy}"


def drop_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vacuum_postgres(url: str) -> None:
    """What autovacuum does after a big insert (PostgreSQL 13+): the visibility map lets
    an index-only scan skip the table."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


class Counter:
    """SQL statements run on an engine (``before_cursor_execute``), and the last ones."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.calls, self.statements = 0, []
        event.listen(engine, "before_cursor_execute", self)

    def __call__(self, _conn, _cursor, statement, parameters, _context, _many):
        self.calls += 1
        self.statements.append((statement, parameters))


class Variant:
    """One database (with or without the covering indexes) and its app."""

    def __init__(self, name: str, url: str):
        from frikomport import create_app
        from frikomport.extensions import db

        self.name, self.url = name, url
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
        with self.app.app_context():
            self.counter = Counter(db.engine)

    def build(self, scope, first, last):
        """One services.build in a fresh session: wall ms, CPU ms, statements, report."""
        from frikomport.extensions import db
        from frikomport.statistics import services

        with self.app.app_context():
            db.session.connection()  # check out a pooled connection before the clock
            calls = self.counter.calls
            self.counter.statements = []
            wall, cpu = time.perf_counter(), time.process_time()
            report = services.build(db.session, scope, first, last)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            db.session.remove()
        return wall * 1000, cpu * 1000, self.counter.calls - calls, report

    def dispose(self):
        from frikomport.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def cases(variant: Variant) -> list[tuple[str, object, date, date]]:
    from sqlalchemy import func, select

    from frikomport.courses.models import Course
    from frikomport.extensions import db
    from frikomport.statistics.queries import Scope
    from frikomport.tenancy.models import Organisation

    with variant.app.app_context():
        biggest, name = db.session.execute(
            select(Organisation.id, Organisation.name).join(
                Course, Course.organisation_id == Organisation.id)
            .group_by(Organisation.id, Organisation.name)
            .order_by(func.count().desc())).first()
        db.session.remove()
    today = date.today()
    year = (date(today.year, 1, 1), date(today.year, 12, 31))
    return [(f"host: {name}, this year", Scope("host", biggest), *year),
            (f"employer: {name}, this year", Scope("employer", biggest), *year),
            ("region, this year", Scope("region"), *year),
            ("region, last 3 years", Scope("region"),
             today.replace(year=today.year - 3) + timedelta(days=1), today)]


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def measure(variants: list[Variant], case_list, rounds: int) -> dict:
    """Alternating rounds: each case on A then B, the next round B then A."""
    results = {(label, v.name): {"wall": [], "cpu": [], "sql": set(), "size": None}
               for label, *_rest in case_list for v in variants}
    for variant in variants:  # warm-up: imports, caches, pools, the database's cache
        for _label, scope, first, last in case_list:
            for _ in range(2):
                variant.build(scope, first, last)
    for number in range(rounds):
        order = variants if number % 2 == 0 else list(reversed(variants))
        for label, scope, first, last in case_list:
            for variant in order:
                wall, cpu, sql, report = variant.build(scope, first, last)
                row = results[(label, variant.name)]
                row["wall"].append(wall)
                row["cpu"].append(cpu)
                row["sql"].add(sql)
                row["size"] = (report.course_count, report.totals.registrations,
                               report.previous.registrations)
        print(f"  round {number + 1}/{rounds} done", flush=True)
    for label, scope, first, last in case_list:  # what the rollup in Python goes through
        for variant in variants:
            results[(label, variant.name)]["rows"] = count_rows(variant, scope, first, last)
    return results


def count_rows(variant: Variant, scope, first, last) -> int:
    """Rows of the period's counts query (one per course × employer × state)."""
    from frikomport.extensions import db
    from frikomport.periods import bounds
    from frikomport.statistics import queries

    with variant.app.app_context():
        rows = len(queries.counts(db.session, scope, *bounds(first, last)))
        db.session.remove()
    return rows


def report_table(kind: str, results: dict, markdown: bool) -> None:
    head = ["case", "indexes", "median ms", "p90 ms", "CPU ms", "SQL", "courses",
            "registrations (year before)", "count rows", f"< {TARGET_MS} ms"]
    rows = []
    for (label, name), row in results.items():
        median = statistics.median(row["wall"])
        courses, registrations, before = row["size"]
        rows.append([label, name, f"{median:.0f}", f"{pct(row['wall'], 0.9):.0f}",
                     f"{statistics.median(row['cpu']):.0f}",
                     "/".join(str(n) for n in sorted(row["sql"])), f"{courses:,}",
                     f"{registrations:,} ({before:,})", f"{row['rows']:,}",
                     "yes" if pct(row["wall"], 0.9) < TARGET_MS else "NO"])
    print(f"\n{kind}: services.build, {len(next(iter(results.values()))['wall'])} rounds")
    print_table(head, rows, markdown)


def print_table(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if n < 2 else "---:" for n in range(len(head))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[n])) for r in [head, *rows]) for n in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(widths[n]) if n < 2 else cell.rjust(widths[n])
                        for n, cell in enumerate(row)))


def explain(kind: str, variant: Variant, label: str, scope, first, last) -> None:
    """The plans of the two queries of the period (counts, then course facts)."""
    from frikomport.extensions import db

    variant.build(scope, first, last)
    counts, courses = variant.counter.statements[:2]
    print(f"\n-- {label} [{variant.name}]")
    with variant.app.app_context():
        connection = db.session.connection()
        for title, (statement, parameters) in (("counts", counts), ("courses", courses)):
            prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else \
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
            plan = connection.exec_driver_sql(prefix + statement, parameters).all()
            print(f"   {title}:")
            for line in plan:
                print("     " + (f"{'  ' * _depth(plan, line)}{line[-1]}" if kind == "sqlite"
                               else line[0]))
        db.session.remove()


def _depth(plan, line) -> int:
    """The nesting of an EXPLAIN QUERY PLAN row (id, parent, notused, detail)."""
    parents, depth, parent = {row[0]: row[1] for row in plan}, 0, line[1]
    while parent:
        depth, parent = depth + 1, parents.get(parent, 0)
    return depth


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, load average {load}")


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def run(kind: str, args) -> None:
    from bench.pages_bench import environment
    from bench.statistics_seed import seed_database
    from frikomport import create_app

    print(f"\n== {kind}: {args.courses:,} courses, {args.registrations:,} registrations ==",
          flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"statistics-{kind}-"))
    url = f"sqlite:///{workdir / 'bench.db'}" if kind == "sqlite" else args.postgresql_url
    if kind == "postgresql":
        fresh_postgres(url)
        print(f"  PostgreSQL {postgres_version(url)}")
    environment(kind, sqlalchemy_url(url), workdir)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    seeded = seed_database(app, args.courses, args.registrations)
    if kind == "postgresql":
        started = time.perf_counter()
        vacuum_postgres(url)
        seeded["timings"]["vacuum analyze"] = time.perf_counter() - started
    from frikomport.extensions import db

    with app.app_context():
        db.engine.dispose()
    print(f"  seeded {seeded['courses']:,} courses ({seeded['sessions']:,} sessions), "
          f"{seeded['registrations']:,} registrations, {seeded['people']:,} people: "
          + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in seeded["timings"].items()))
    if kind == "sqlite":
        print(f"  database file {Path(workdir / 'bench.db').stat().st_size / 2**20:.0f} MiB")
    started = time.perf_counter()
    variants = [Variant(WITH, url), Variant(WITHOUT, copy_without_indexes(kind, url, workdir))]
    print(f"  copied without the covering indexes in {time.perf_counter() - started:.1f} s")
    try:
        case_list = cases(variants[0])
        results = measure(variants, case_list, args.rounds)
        report_table(kind, results, args.markdown)
        print(f"\n{kind}: query plans (the period's counts and course facts)")
        for label, scope, first, last in case_list:
            for variant in variants:
                explain(kind, variant, label, scope, first, last)
    finally:
        for variant in variants:
            variant.dispose()
        if kind == "postgresql" and not args.keep:
            drop_postgres(variants[1].url)
            drop_postgres(url)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  kept {workdir}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgresql-url", default=PG_DEFAULT)
    parser.add_argument("--courses", type=int, default=50_000)
    parser.add_argument("--registrations", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    print(machine())
    logging.disable(logging.INFO)  # the migrations' progress
    started = time.perf_counter()
    for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        run(kind, args)
    print(f"\ntotal time {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
