"""Statistics benchmark (issue 13): the statistics at 50,000 courses and 500,000
registrations, with and without the covering indexes of migration e8a2c6f1b5d7.

    .venv/bin/python bench/statistics_bench.py                       # both databases
    .venv/bin/python bench/statistics_bench.py --database sqlite --rounds 5
    .venv/bin/python bench/statistics_bench.py --courses 5000 --registrations 50000

Per database a fresh one is seeded (bench/statistics_seed.py: the demo tenants, N
courses over three years past and one ahead, M registrations in every state, bulk
inserts) and copied; the copy gets the indexes as they were before the migration
(``ix_registration_course_state`` instead of the two covering ones; it keeps
``ix_registration_updated_at``, the data version's index). Four cases: the host view of
the biggest organisation this year, its employer view this year, the region this year,
and the region over the last three years. In alternating rounds (A = covering indexes,
B = without; A, B, then B, A, …) each case runs on each variant:

- ``build (cold)``: one ``services.build`` with the kept reports cleared first (the
  queries and the rollup, no rendering);
- ``page (cold)``: the statistics page through the Flask test client, logged in as the
  biggest organisation's admin (``/o/<slug>/admin/statistics?view=host|employer`` or
  ``/region/statistics``), the kept reports cleared first;
- ``page (warm)``: the same request again, as when it is asked for while its report is
  kept (the page's chart images and spreadsheets right after it);
- ``chart (warm)``: the attendance chart (SVG) of the same period;
- ``xlsx (warm)``: the download of every table (``all.xlsx``: every course too).

Per case, request and variant: median and p90 wall ms, median CPU ms of this process
(``time.process_time``; PostgreSQL's own CPU is not included), the SQL statements
(``before_cursor_execute``; for a request also the login session's) and the response
size. Both variants run in one process and share the kept reports (the copies hold the
same data, so the same key): every cold measurement clears them, and the warm ones
follow their variant's cold page. Then the query plans of the statements per course,
per month (the year before) and per employer, captured from a cold build (``EXPLAIN
QUERY PLAN`` / PostgreSQL's ``EXPLAIN (ANALYZE, BUFFERS)``), with and without the
indexes.

The issue's target is the statistics page under 300 ms at this size (p90 < 300 ms is
marked). The machine may be shared (another test run going on): the load average is
printed per round; compare the variants, measured side by side, more than the absolute
times.
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

from bench.pages_bench import fresh_postgres, pct  # noqa: E402  (needs ROOT on the path)

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/stats_bench"
TARGET_MS = 300
COVERING = ("ix_registration_statistics", "ix_registration_employer_statistics")
# The index as it was before migration e8a2c6f1b5d7 (its downgrade).
BEFORE = "CREATE INDEX ix_registration_course_state ON registration (course_id, state)"
WITH, WITHOUT = "covering", "without"
BUILD, PAGE_COLD, PAGE_WARM, CHART, XLSX = (
    "build (cold)", "page (cold)", "page (warm)", "chart (warm)", "xlsx (warm)")
KINDS = (BUILD, PAGE_COLD, PAGE_WARM, CHART, XLSX)
CHART_NAME = "attendance"


def sqlalchemy_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


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
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
                               "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        self.client = self.app.test_client()
        with self.app.app_context():
            self.counter = Counter(db.engine)

    def login(self, email: str, password: str) -> None:
        """Through the login form, as the tests do; the client keeps the cookie."""
        response = self.client.post("/login", data={"email": email, "password": password})
        if response.status_code != 302:
            raise SystemExit(f"login as {email} answered {response.status_code}")

    def build(self, scope, first, last):
        """One cold services.build (kept reports cleared) in a fresh session: wall ms,
        CPU ms, statements, report."""
        from frikomport.extensions import db
        from frikomport.statistics import services

        with self.app.test_request_context("/"):  # the report's key has the locale
            db.session.connection()  # check out a pooled connection before the clock
            forget_reports()
            calls = self.counter.calls
            self.counter.statements = []
            wall, cpu = time.perf_counter(), time.process_time()
            report = services.build(db.session, scope, first, last)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            db.session.remove()
        return wall * 1000, cpu * 1000, self.counter.calls - calls, report

    def get(self, path: str, cold: bool = False):
        """One GET through the test client: wall ms, CPU ms, statements, bytes."""
        if cold:
            forget_reports()
        calls = self.counter.calls
        wall, cpu = time.perf_counter(), time.process_time()
        response = self.client.get(path)
        size = len(response.get_data())
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if response.status_code != 200:
            raise SystemExit(f"{self.name}: {path} answered {response.status_code}")
        return wall * 1000, cpu * 1000, self.counter.calls - calls, size

    def dispose(self):
        from frikomport.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def forget_reports() -> None:
    """Clear the reports services.build keeps per process (the next build is cold)."""
    from frikomport.statistics import services

    with services._lock:
        services._reports._items.clear()


class Case:
    """A scope and period, with the URLs of its page, a chart and the spreadsheet."""

    def __init__(self, label: str, scope, first: date, last: date, base: str, view: str):
        self.label, self.scope, self.first, self.last = label, scope, first, last
        query = (f"view={view}&" if view else "") + f"from={first}&to={last}"
        self.paths = {PAGE_COLD: f"{base}?{query}", PAGE_WARM: f"{base}?{query}",
                      CHART: f"{base}/{CHART_NAME}.svg?{query}",
                      XLSX: f"{base}/all.xlsx?{query}"}


def cases(variant: Variant) -> tuple[list[Case], str]:
    """The four cases, and the e-mail address of the biggest organisation's admin."""
    from sqlalchemy import func, select

    from frikomport.accounts.models import User
    from frikomport.courses.models import Course
    from frikomport.extensions import db
    from frikomport.statistics.queries import Scope
    from frikomport.tenancy.models import Membership, Organisation, Role

    with variant.app.app_context():
        biggest, name, slug = db.session.execute(
            select(Organisation.id, Organisation.name, Organisation.slug).join(
                Course, Course.organisation_id == Organisation.id)
            .group_by(Organisation.id, Organisation.name, Organisation.slug)
            .order_by(func.count().desc())).first()
        admin = db.session.scalar(
            select(User.email).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == biggest, Membership.role == Role.ADMIN,
                   User.password_hash.is_not(None), User.is_enabled)
            .order_by(User.id))
        db.session.remove()
    if admin is None:
        raise SystemExit(f"no admin with a password in {name}")
    today = date.today()
    year = (date(today.year, 1, 1), date(today.year, 12, 31))
    page = f"/o/{slug}/admin/statistics"
    return [Case(f"host: {name}, this year", Scope("host", biggest), *year, page, "host"),
            Case(f"employer: {name}, this year", Scope("employer", biggest), *year, page,
                 "employer"),
            Case("region, this year", Scope("region"), *year, "/region/statistics", ""),
            Case("region, last 3 years", Scope("region"),
                 today.replace(year=today.year - 3) + timedelta(days=1), today,
                 "/region/statistics", "")], admin


def measure(variants: list[Variant], case_list: list[Case], rounds: int) -> dict:
    """Alternating rounds: each case on A then B, the next round B then A; per case and
    variant the cold build, then the cold page and what follows it warm."""
    results = {(case.label, kind, v.name): {"wall": [], "cpu": [], "sql": set(), "size": []}
               for case in case_list for kind in KINDS for v in variants}
    sizes, loads = {}, []

    def one_case(variant: Variant, case: Case, record: bool) -> None:
        wall, cpu, sql, report = variant.build(case.scope, case.first, case.last)
        measured = [(BUILD, (wall, cpu, sql, None))]
        sizes[(case.label, variant.name)] = (report.course_count, report.totals.registrations,
                                             report.previous.registrations)
        for kind in KINDS[1:]:
            measured.append((kind, variant.get(case.paths[kind], cold=kind == PAGE_COLD)))
        if not record:
            return
        for kind, (wall, cpu, sql, size) in measured:
            row = results[(case.label, kind, variant.name)]
            row["wall"].append(wall)
            row["cpu"].append(cpu)
            row["sql"].add(sql)
            row["size"].append(size)

    for variant in variants:  # warm-up: imports, templates, pools, the database's cache
        for case in case_list:
            for _ in range(2):
                one_case(variant, case, record=False)
    for number in range(rounds):
        order = variants if number % 2 == 0 else list(reversed(variants))
        for case in case_list:
            for variant in order:
                one_case(variant, case, record=True)
        loads.append(os.getloadavg()[0])
        print(f"  round {number + 1}/{rounds} done, load average {loads[-1]:.2f}", flush=True)
    for case in case_list:  # what the rollup in Python goes through
        for variant in variants:
            rows = count_rows(variant, case.scope, case.first, case.last)
            sizes[(case.label, variant.name)] += (rows,)
    return {"results": results, "sizes": sizes, "loads": loads, "rounds": rounds}


def count_rows(variant: Variant, scope, first, last) -> int:
    """Rows of the period's per-course query (one per course; for an employer, per
    course its people registered for)."""
    from frikomport.extensions import db
    from frikomport.periods import bounds
    from frikomport.statistics import queries

    with variant.app.app_context():
        rows = len(queries.per_course(db.session, scope, *bounds(first, last)))
        db.session.remove()
    return rows


def report_table(kind: str, measured: dict, markdown: bool) -> None:
    results, sizes = measured["results"], measured["sizes"]
    loads = measured["loads"]
    print(f"\n{kind}: {measured['rounds']} rounds, load average (1 min) per round "
          f"{min(loads):.2f}–{max(loads):.2f}")
    head = ["case", "indexes", "courses", "registrations (year before)", "per-course rows"]
    rows = [[label, name, f"{courses:,}", f"{registrations:,} ({before:,})", f"{rows:,}"]
            for (label, name), (courses, registrations, before, rows) in sizes.items()]
    print_table(head, rows, markdown)
    print()
    head = ["case", "request", "indexes", "median ms", "p90 ms", "CPU ms", "SQL", "KiB",
            f"p90 < {TARGET_MS} ms"]
    rows = []
    for (label, request, name), row in results.items():
        size = "–" if row["size"][0] is None else f"{statistics.median(row['size']) / 1024:.0f}"
        rows.append([label, request, name, f"{statistics.median(row['wall']):.0f}",
                     f"{pct(row['wall'], 0.9):.0f}", f"{statistics.median(row['cpu']):.0f}",
                     "/".join(str(n) for n in sorted(row["sql"])), size,
                     "yes" if pct(row["wall"], 0.9) < TARGET_MS else "NO"])
    print_table(head, rows, markdown, labels=3)


def print_table(head: list[str], rows: list[list[str]], markdown: bool,
                labels: int = 2) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if n < labels else "---:" for n in range(len(head)))
              + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[n])) for r in [head, *rows]) for n in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(widths[n]) if n < labels else cell.rjust(widths[n])
                        for n, cell in enumerate(row)))


def explain(kind: str, variant: Variant, case: Case) -> None:
    """The plans of the statements per course, per month (the year before) and per
    employer, as a cold build runs them."""
    from frikomport.extensions import db

    variant.build(case.scope, case.first, case.last)
    captured = variant.counter.statements
    found = [(title, next(((statement, parameters) for statement, parameters in captured
                           if test(statement)), None))
             for title, test in STATEMENTS]
    print(f"\n-- {case.label} [{variant.name}]")
    with variant.app.app_context():
        connection = db.session.connection()
        for title, pair in found:
            if pair is None:
                print(f"   {title}: not run for this scope")
                continue
            statement, parameters = pair
            prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else \
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
            plan = connection.exec_driver_sql(prefix + statement, parameters).all()
            print(f"   {title}:")
            for line in plan:
                print("     " + (f"{'  ' * _depth(plan, line)}{line[-1]}" if kind == "sqlite"
                               else line[0]))
        db.session.remove()


def _is_per_employer(statement: str) -> bool:
    return "GROUP BY registration.employer_organisation_id" in statement


def _is_per_month(statement: str) -> bool:
    return " AS month" in statement


def _is_per_course(statement: str) -> bool:
    return "course.title" in statement and not _is_per_month(statement) \
        and not _is_per_employer(statement)


# How the captured statements of a build are told apart (see queries).
STATEMENTS = (("per_course", _is_per_course), ("per_month (the year before)", _is_per_month),
              ("per_employer", _is_per_employer))


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
    from frikomport.demo.seed import DEMO_PASSWORD

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
        case_list, admin = cases(variants[0])
        started = time.perf_counter()
        for variant in variants:
            variant.login(admin, DEMO_PASSWORD)
        print(f"  logged in as {admin} ({(time.perf_counter() - started) * 1000:.0f} ms, "
              "the password's hash is slow on purpose)")
        started = time.perf_counter()
        measured = measure(variants, case_list, args.rounds)
        print(f"  measured in {time.perf_counter() - started:.0f} s")
        report_table(kind, measured, args.markdown)
        if not args.no_explain:
            print(f"\n{kind}: query plans (per course, per month, per employer)")
            for case in case_list:
                for variant in variants:
                    explain(kind, variant, case)
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
    parser.add_argument("--no-explain", action="store_true", help="skip the query plans")
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
