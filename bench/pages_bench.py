"""Page benchmark (issue 12): the portal's pages beside a bare Flask + Jinja page.

    .venv/bin/python bench/pages_bench.py                              # 5k and 50k, both
    .venv/bin/python bench/pages_bench.py --courses 500 2000 --database sqlite
    .venv/bin/python bench/pages_bench.py --database postgresql --markdown

For each database and size a fresh database is seeded (bench/pages_seed.py: the demo
tenants, N generated courses with sessions and registrations, and a course with 1,000
confirmed participants) and the search index rebuilt. The portal and a bare Flask + Jinja
app (``bare_app`` below: a layout, ~20 course cards, loops and filters, no database) are
served by gunicorn with the same workers and threads. Blocks of requests alternate
bare, page, bare, page, … for several rounds, so a busy machine slows both alike.

Per page: requests/s (median over rounds), p50/p99 latency, CPU ms per request of the
gunicorn workers (from /proc; PostgreSQL's own CPU is not included), SQL statements per
request (counted in this process with the Flask test client), requests/s relative to
the neighbouring bare blocks, and "solo" p50/p95: one request at a time, no queueing
(used for the latency targets; the loaded p50/p99 include waiting for a free core).
Then the 50k÷5k CPU cost, worker memory over mixed requests and the targets of issue 12.
Anonymous visitors, except the participants page
(its organisation's organiser, with a session cookie minted with the app's key).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/bench_pages"
SECRET_KEY = "pages-bench-not-secret-0123456789abcdefghijklmnop"
AGENT = "pages-bench"
TICK = 1000 / os.sysconf("SC_CLK_TCK")  # ms per clock tick

BARE_LAYOUT = """<!doctype html><html lang="nb"><head><title>{% block title %}{% endblock %}
</title><link rel="stylesheet" href="/static/app.css"></head><body><header><nav><ul>
{% for label, href in nav %}<li><a href="{{ href }}">{{ label }}</a></li>{% endfor %}
</ul></nav></header><main>{% block main %}{% endblock %}</main><footer>FriKomPort</footer>
</body></html>"""
BARE_PAGE = """{% extends "layout.html" %}{% block title %}Kurs – {{ total }}{% endblock %}
{% block main %}<h1>Kurs</h1><ul class="cards">{% for c in courses %}
<li class="card {{ loop.cycle('odd', 'even') }}"><h2><a href="/courses/{{ c.id }}">
{{ c.title|title }}</a></h2><p>{{ c.summary|truncate(80) }}</p><dl>
<dt>Tid</dt><dd>{{ c.starts.strftime('%d.%m.%Y %H:%M') }}</dd><dt>Arrangør</dt>
<dd>{{ c.organisation|e }}</dd><dt>Ledige plasser</dt><dd>{{ c.capacity - c.taken }}</dd>
</dl>{% if c.tags %}<p>{{ c.tags|map('upper')|join(', ') }}</p>{% endif %}</li>
{% endfor %}</ul>{% endblock %}"""


def bare_app():
    """The bare Flask + Jinja reference page (``gunicorn 'bench.pages_bench:bare_app()'``)."""
    from datetime import datetime, timedelta

    from flask import Flask, render_template
    from jinja2 import DictLoader

    app = Flask(__name__)
    app.jinja_loader = DictLoader({"layout.html": BARE_LAYOUT, "page.html": BARE_PAGE})
    start = datetime(2026, 12, 1, 9)
    courses = [{"id": n, "title": f"førstehjelp – kurs {n} for ansatte", "summary":
                "Praktisk førstehjelp tilpasset små barn: fremmedlegeme, HLR og skader. " * 2,
                "starts": start + timedelta(days=n), "organisation": f"Kommune <{n}>",
                "capacity": 20, "taken": n % 20, "tags": ["helse", "hlr"][: n % 3]}
               for n in range(20)]
    nav = [("Kurs", "/courses/"), ("Kalender", "/courses/calendar"), ("Søk", "/search/")]

    @app.get("/")
    def page():
        return render_template("page.html", courses=courses, nav=nav, total=len(courses))

    return app


@dataclass
class Page:
    name: str
    path: str
    headers: dict = field(default_factory=dict)
    expect: int = 200


@dataclass
class Server:
    proc: subprocess.Popen
    port: int

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def cpu_ms(self) -> float:
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total * TICK

    def rss_mib(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, page: Page, conn=None) -> tuple[int, bytes, dict]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", quote(page.path, safe="/?=&%"),
                     headers={"User-Agent": AGENT, **page.headers})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        if own:
            conn.close()


def start_server(spec: str, env: dict, args) -> Server:
    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "--threads",
         str(args.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", spec],
        cwd=ROOT, env={**env, "PYTHONFAULTHANDLER": "1"})
    server = Server(proc, port)
    for _ in range(600):
        time.sleep(0.1)
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn {spec} exited with {proc.returncode}")
        try:
            get(port, Page("probe", "/"))
            if len(server.workers()) == args.workers:
                return server
        except OSError:
            continue
    raise SystemExit(f"gunicorn {spec} did not start")


def load(port: int, pages: list[Page], count: int, concurrency: int):
    """``count`` requests over ``pages`` (in turn) on keep-alive connections; return the
    elapsed seconds, latencies (ms) and status counts."""
    lock, latencies, statuses = threading.Lock(), [], {}
    counter = iter(range(count))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                break
            began = time.perf_counter()
            try:
                status = get(port, pages[number % len(pages)], conn)[0]
            except (OSError, http.client.HTTPException):
                status = 0  # connection reset or closed: a worker died (or timed out)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def block(server: Server, page: Page, count: int, concurrency: int) -> dict:
    pids, cpu = server.workers(), server.cpu_ms()
    seconds, latencies, statuses = load(server.port, [page], count, concurrency)
    if set(statuses) != {page.expect}:
        print(f"  warning: {page.name} answered {statuses} (0: connection lost)")
    if server.workers() != pids:
        print(f"  warning: a worker was replaced during {page.name}; CPU not counted")
        return {"rate": count / seconds, "lat": latencies, "cpu": float("nan")}
    return {"rate": count / seconds, "lat": latencies,
            "cpu": (server.cpu_ms() - cpu) / count}


def check(server: Server, page: Page) -> None:
    status, body, _headers = get(server.port, page)
    if status != page.expect:
        raise SystemExit(f"{page.name} ({page.path}) answered {status}: {body[:400]!r}")


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def timed(portal: Server, bare: Server, pages: list[Page], args) -> dict[str, dict]:
    """Interleaved rounds: bare, page 1, bare, page 2, …, bare."""
    reference = Page("bare Flask + Jinja", "/")
    results = {p.name: {"rates": [], "lat": [], "cpu": [], "ratio": []} for p in pages}
    results[reference.name] = {"rates": [], "lat": [], "cpu": [], "ratio": []}
    for _ in range(2):  # warm-up: imports, caches, connection pools
        for page in pages:
            load(portal.port, [page], max(8, 2 * args.threads * args.workers), args.concurrency)
        load(bare.port, [reference], 50, args.concurrency)
    for number in range(args.rounds):
        before = block(bare, reference, args.requests, args.concurrency)
        for page in pages:
            measured = block(portal, page, args.requests, args.concurrency)
            after = block(bare, reference, args.requests, args.concurrency)
            row = results[page.name]
            row["rates"].append(measured["rate"])
            row["lat"] += measured["lat"]
            row["cpu"].append(measured["cpu"])
            row["ratio"].append(measured["rate"] / ((before["rate"] + after["rate"]) / 2))
            bare_row = results[reference.name]
            bare_row["rates"].append(after["rate"])
            bare_row["cpu"].append(after["cpu"])
            bare_row["lat"] += after["lat"]
            bare_row["ratio"].append(1.0)
            before = after
        print(f"  round {number + 1}/{args.rounds} done", flush=True)
    summary = {name: summarise(row) for name, row in results.items()}
    for page in [*pages, reference]:  # one request at a time: latency without queueing
        server = bare if page is reference else portal
        solo = load(server.port, [page], args.solo, 1)[1]
        summary[page.name].update(solo50=pct(solo, 0.5), solo95=pct(solo, 0.95))
    return summary


def summarise(row: dict) -> dict:
    return {"rate": statistics.median(row["rates"]), "p50": pct(row["lat"], 0.5),
            "p95": pct(row["lat"], 0.95), "p99": pct(row["lat"], 0.99),
            "cpu": statistics.median([c for c in row["cpu"] if c == c] or [float("nan")]),
            "ratio": statistics.median(row["ratio"])}


def count_sql(config: dict, pages: list[Page]) -> dict[str, float]:
    """Statements per request, counted in this process with the Flask test client."""
    from sqlalchemy import event

    from frikomport import create_app
    from frikomport.extensions import db

    app = create_app(config)
    counts: dict[str, float] = {}
    calls = [0]

    def count(*_args):
        calls[0] += 1

    with app.app_context():  # requests push their own (a shared one would share ``g``)
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client(use_cookies=False)
    for page in pages:
        headers = {"User-Agent": AGENT, **page.headers}
        client.get(page.path, headers=headers)  # warm
        calls[0] = 0
        response = client.get(page.path, headers=headers)
        if response.status_code != page.expect:
            raise SystemExit(f"test client: {page.path} answered {response.status_code}")
        counts[page.name] = calls[0]
    event.remove(engine, "before_cursor_execute", count)
    engine.dispose()
    return counts


def login_cookie(config: dict, email: str) -> str:
    """A session cookie of a logged-in ``email``, minted with the app's key."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import select

    from frikomport import create_app
    from frikomport.accounts import sessions
    from frikomport.accounts.models import User
    from frikomport.extensions import db

    app = create_app(config)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        sessions.start(db.session, user)
        db.session.commit()
        with app.test_request_context("/", headers={"User-Agent": AGENT},
                                      environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            login_user(user)
            generate_csrf()  # in the cookie, so pages with forms do not set a new one
            serializer = app.session_interface.get_signing_serializer(app)
            cookie = f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}"
        db.session.remove()
        db.engine.dispose()
    return cookie


def page_list(seeded, cookie: str) -> list[Page]:
    slug = seeded.slugs[0]
    return [
        Page("front page", "/"), Page("course list", "/courses/"),
        Page("calendar", "/courses/calendar"), Page("organisation page", f"/o/{slug}/"),
        Page("search: kurs", "/search/?q=kurs"),
        Page("search: demensomsorg", "/search/?q=demensomsorg"),
        Page("organisation .ics", f"/o/{slug}/courses.ics"),
        Page("participants (1,000)",
             f"/o/{slug}/admin/courses/{seeded.big_course_id}/participants",
             {"Cookie": cookie}),
    ]


def mixed_pages(seeded, pages: list[Page], count: int) -> list[Page]:
    """Pages with many different queries, filters, months and organisations."""
    from bench.search_bench import TOPICS

    rng = random.Random(5)
    participants = pages[-1]
    extra = [Page("", f"/search/?q={word}") for word, _ in TOPICS]
    extra += [Page("", f"/search/?q={w}&sort=date&page={p}") for w in ("kurs", "opplæring")
              for p in (1, 2, 3)]
    extra += [Page("", f"/courses/?page={p}") for p in range(1, 8)]
    extra += [Page("", f"/courses/?category={name}") for name in seeded.categories]
    extra += [Page("", f"/courses/calendar?month={y}-{m:02d}") for y in (2025, 2026, 2027)
              for m in range(1, 13)]
    extra += [Page("", f"/o/{slug}/") for slug in seeded.slugs]
    extra += [Page("", f"/o/{slug}/courses.ics") for slug in seeded.slugs]
    extra += [Page("", f"{participants.path}?page={p}", participants.headers)
              for p in range(1, 6)]
    extra += [Page("", f"/courses/{course_id}") for course_id in seeded.public_ids]
    return [rng.choice(pages + extra) for _ in range(count)]


def memory(portal: Server, seeded, pages: list[Page], args) -> list[list[float]]:
    """Worker RSS (MiB) at 0, 25, 50, 75 and 100 % of the mixed requests."""
    mixed = mixed_pages(seeded, pages, args.memory_requests)
    snapshots, statuses, pids = [portal.rss_mib()], {}, portal.workers()
    quarter = len(mixed) // 4
    for part in range(4):
        chunk = mixed[part * quarter:(part + 1) * quarter]
        _seconds, _lat, seen = load(portal.port, chunk, len(chunk), args.concurrency)
        for status, number in seen.items():
            statuses[status] = statuses.get(status, 0) + number
        snapshots.append(portal.rss_mib())
    print(f"  mixed requests: statuses {dict(sorted(statuses.items()))}")
    if portal.workers() != pids:
        print("  warning: workers were replaced during the mixed requests: the RSS series "
              "restarts with the new worker (not a measure of growth)")
        snapshots.append([])  # marks the series as broken for the "flat" check
    return snapshots


def prepare_database(kind: str, size: int, args, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    fresh_postgres(args.postgresql_url)
    return args.postgresql_url


def fresh_postgres(url: str) -> None:
    """Drop and create the bench's own database (never ``test`` or ``postgres``)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    if name in ("test", "postgres"):
        raise SystemExit("refusing to use the database test or postgres")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def environment(kind: str, url: str, workdir: Path) -> dict:
    env = dict(os.environ, FRIKOMPORT_ENV="development", SECRET_KEY=SECRET_KEY,
               DATABASE_URL=url, FRIKOMPORT_DATA_DIR=str(workdir), RATELIMIT_ENABLED="0",
               SEARCH_BACKEND="whoosh" if kind == "sqlite" else "postgresql",
               SEARCH_INDEX_DIR=str(workdir / "search"), OUTBOX_IN_PROCESS="0",
               SEARCH_IN_PROCESS="0", HOUSEKEEPING_IN_PROCESS="0", MAIL_BACKEND="folder")
    os.environ.update(env)  # the apps made in this process read the same settings
    return env


def run_one(kind: str, size: int, args, bare: Server) -> dict:
    from bench.pages_seed import seed_database
    from frikomport import create_app

    print(f"\n== {kind}, {size} courses ==", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"pages-{kind}-{size}-"))
    url = prepare_database(kind, size, args, workdir)
    environment(kind, url, workdir)
    config = {"TESTING": False}
    seeded = seed_database(create_app(config), size)
    cookie = login_cookie(config, seeded.organiser_email)
    pages = page_list(seeded, cookie)
    portal = start_server("wsgi:app", dict(os.environ), args)
    try:
        for page in pages:
            check(portal, page)
        etag = get(portal.port, pages[6])[2].get("ETag", "")
        pages.append(Page("organisation .ics (304)", pages[6].path,
                          {"If-None-Match": etag}, 304))
        check(portal, pages[-1])
        results = timed(portal, bare, pages, args)
        sql = count_sql(config, pages)
        rss = (memory(portal, seeded, pages[:-1], args) if size == max(args.courses)
               else [portal.rss_mib()])
    finally:
        portal.stop()
    if kind == "postgresql":
        prepare_database(kind, size, args, workdir)  # leave no 50k database behind
    shutil.rmtree(workdir, ignore_errors=True)
    report_table(kind, size, results, sql, rss, seeded.seconds, args.markdown)
    return {"results": results, "rss": rss}


def report_table(kind, size, results, sql, rss, seconds, markdown) -> None:
    print(f"\n{kind}, {size:,} courses (seeded in {seconds:.0f} s)")
    head = ["page", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "SQL/req", "× bare",
            "solo p50", "solo p95"]
    rows = [[name, f"{r['rate']:.0f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}",
             f"{r['cpu']:.2f}", str(sql.get(name, "–")), f"{r['ratio']:.2f}",
             f"{r['solo50']:.1f}", f"{r['solo95']:.1f}"]
            for name, r in results.items()]
    print_table(head, rows, markdown)
    print("worker RSS MiB at 0/25/50/75/100 % of the mixed requests: " + "; ".join(
        f"worker {n + 1}: " + " → ".join(f"{snap[n]:.0f}" for snap in rss if n < len(snap))
        for n in range(len(rss[0]))) + (" (workers replaced)" if rss[-1] == [] else ""))


def print_table(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if n == 0 else "---:" for n in range(len(head))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[n])) for r in [head, *rows]) for n in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(widths[0]) if n == 0 else cell.rjust(widths[n])
                        for n, cell in enumerate(row)))


def targets(kind: str, by_size: dict[int, dict], markdown: bool) -> None:
    small, large = min(by_size), max(by_size)
    first, last = by_size[small]["results"], by_size[large]["results"]
    print(f"\n{kind}: cost at {large:,} ÷ {small:,} courses (CPU ms per request)")
    rows = [[name, f"{first[name]['cpu']:.2f}", f"{last[name]['cpu']:.2f}",
             f"{last[name]['cpu'] / max(first[name]['cpu'], 0.01):.2f}"]
            for name in last if "bare" not in name]
    print_table(["page", f"{small:,}", f"{large:,}", "ratio"], rows, markdown)
    verdict = {True: "PASS", False: "FAIL"}
    checks = [(f"every page at {large:,} within 1.5× of {small:,}",
               all(float(r[3]) <= 1.5 for r in rows)),
              ("participants (1,000) solo p50 under 100 ms",
               last["participants (1,000)"]["solo50"] < 100)]
    checks += [(f"{name} ≥ 25 % of bare Flask", last[name]["ratio"] >= 0.25)
               for name in ("course list", "front page")]
    checks += [("search solo p95 'kurs' < 50 ms", last["search: kurs"]["solo95"] < 50),
               ("search solo p95 'demensomsorg' < 20 ms",
                last["search: demensomsorg"]["solo95"] < 20)]
    rss = by_size[large]["rss"]
    broken = len(rss) > 1 and rss[-1] == []
    rss = [snap for snap in rss if snap]
    checks += [(f"worker RSS < 250 MiB at {large:,}", max(max(s) for s in rss) < 250),
               ("worker RSS flat (last ÷ 25 % point ≤ 1.1)" + (
                   " — UNMEASURED, workers replaced" if broken else ""), not broken and max(
                   b / a for a, b in zip(rss[1], rss[-1], strict=False)) <= 1.1)]
    for label, passed in checks:
        print(f"  {verdict[passed]}  {label}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgresql-url", default=PG_DEFAULT)
    parser.add_argument("--requests", type=int, default=150, help="per page per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="per worker; see gunicorn.conf.py for why one")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--solo", type=int, default=40,
                        help="requests one at a time per page, for the latency targets")
    parser.add_argument("--memory-requests", type=int, default=10_000,
                        help="mixed requests at the largest size, for the memory check")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers too
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    started = time.perf_counter()
    bare = start_server("bench.pages_bench:bare_app()", dict(os.environ), args)
    try:
        for kind in kinds:
            by_size = {size: run_one(kind, size, args, bare) for size in args.courses}
            targets(kind, by_size, args.markdown)
    finally:
        bare.stop()
    print(f"\ntotal time {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
