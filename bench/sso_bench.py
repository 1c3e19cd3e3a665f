"""Login benchmark (issue 15): single sign-on through the test provider against a
password login, on SQLite and PostgreSQL side by side.

    .venv/bin/python bench/sso_bench.py                          # both databases, 30 rounds
    .venv/bin/python bench/sso_bench.py --database sqlite --rounds 5

Each database is migrated fresh and holds a few rows: Kongsberg kommune, a site admin,
one person with a password and Kongsberg's provider, saved by the site admin with
``frikomport.sso.settings.save_provider`` (so its domain is approved); the people who
log in through it are made by their first logins. The real test provider
(``tests/sso/provider.py``) has one client whose redirect URIs are both portals'
callbacks. Each portal runs on a werkzeug ``make_server`` thread with ``BASE_URL`` = its
own address; both are measured in alternating rounds (A = SQLite, B = PostgreSQL: A, B,
then B, A, …), case by case, each login in a fresh browser (a ``requests`` session):

- ``sso, first login`` (the account is made just in time) and ``sso, returning``: the
  POST ``/login/sso/kongsberg`` (the 303 to the provider) and the callback GET (token
  request, ID-token check, account lookup or creation, login session) timed apart; the
  provider's pages (``OidcProvider.login``) only as "provider round trip" (wall ms).
- ``password``: POST ``/login`` with e-mail and password, Argon2id with the production
  parameters of config.py (time cost 3, memory 64 MiB).

Per case and database: median and p90 wall ms, median CPU ms of this process
(``time.process_time``: the server thread and the client's side of the HTTP both count;
node's and PostgreSQL's CPU do not) and SQL statements (``before_cursor_execute`` on every
engine: the rate limiter's own engine counts too). CSRF is off; the rate limits are on.
Two untimed warm-ups per case and database. The machine may be shared: compare the
databases and cases, measured side by side, more than the absolute times.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

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
)

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/bench_sso"
SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"
CLIENT_ID, CLIENT_SECRET = "frikomport-kongsberg", "s3cret-kongsberg"
DOMAIN = "kongsberg.example.org"
PASSWORD_EMAIL, PASSWORD = "per.passord@passord.example.org", "bench-passord-2026"
ARGON2 = {"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_COST": 65536}
RETURNING = "kari"
CASES = ("sso, first login", "sso, returning", "password")
PARTS = ("POST /login/sso/<slug>", "callback", "portal's part (both)", "provider round trip",
         "whole login (wall)")
ORDER = (*PARTS, "POST /login")


def account(sub: str, name: str) -> dict:
    return {"email": f"{sub}@{DOMAIN}", "email_verified": True, "name": name}


class Portal:
    """One database's app, served on a live HTTP server thread, and its seed."""

    def __init__(self, name: str, kind: str, url: str, port: int, workdir: Path):
        from werkzeug.serving import make_server

        from frikomport import create_app

        environment(kind, sqlalchemy_url(url), workdir)
        self.name, self.base, self.new = name, f"http://127.0.0.1:{port}", 0
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
                               "BASE_URL": self.base, "SSO_ALLOW_LOCAL_ISSUERS": True,
                               "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
                               **ARGON2})
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def seed(self, issuer: str) -> None:
        from flask_migrate import upgrade

        from frikomport.accounts.models import User
        from frikomport.accounts.passwords import hash_password
        from frikomport.db import utcnow
        from frikomport.extensions import db
        from frikomport.sso.settings import save_provider
        from frikomport.tenancy.models import Membership, Organisation, Role

        with self.app.test_request_context():
            upgrade()
            kongsberg = Organisation(slug="kongsberg", name="Kongsberg kommune")
            admin = User(email="drift@frikomport.example.org", name="Drift",
                         is_site_admin=True, email_confirmed_at=utcnow())
            person = User(email=PASSWORD_EMAIL, name="Per Passord", home_organisation=kongsberg,
                          password_hash=hash_password(PASSWORD), email_confirmed_at=utcnow())
            person.memberships.append(Membership(organisation=kongsberg, role=Role.EMPLOYEE))
            db.session.add_all([kongsberg, admin, person])
            db.session.flush()
            save_provider(db.session, admin, kongsberg, issuer=issuer, client_id=CLIENT_ID,
                          client_secret=CLIENT_SECRET, scopes="openid email profile",
                          email_claim="email", domains=DOMAIN, allow_local_passwords=True,
                          enabled=True)
            db.session.commit()
            db.session.remove()

    def sizes(self) -> dict[str, int]:
        from sqlalchemy import func, select

        from frikomport.accounts.models import LoginSession, User
        from frikomport.extensions import db
        from frikomport.sso.models import ExternalIdentity

        with self.app.app_context():
            found = {what: db.session.scalar(select(func.count()).select_from(model))
                     for what, model in (("accounts", User), ("linked identities",
                                         ExternalIdentity), ("login sessions", LoginSession))}
            db.session.remove()
        return found

    def stop(self) -> None:
        from frikomport.extensions import db

        self.server.shutdown()
        self.thread.join(timeout=10)
        with self.app.app_context():
            db.engine.dispose()


def timed(counter: Counter, call, expect: int):
    """The response of ``call()`` and its wall ms, CPU ms and SQL statements."""
    calls = counter.calls
    wall, cpu = time.perf_counter(), time.process_time()
    response = call()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if response.status_code != expect:
        raise SystemExit(f"{response.request.method} {response.url}: "
                         f"{response.status_code} {response.text[:500]}")
    return response, (wall * 1000, cpu * 1000, counter.calls - calls)


def sso_login(portal: Portal, provider, counter: Counter, http, sub: str) -> dict:
    """The button, the provider's pages and the callback."""
    out, post = timed(counter, lambda: http.post(f"{portal.base}/login/sso/kongsberg",
                                                 allow_redirects=False), 303)
    started = time.perf_counter()
    callback = provider.login(http, out.headers["Location"], sub,
                              stop_at=f"{portal.base}/login/sso/callback")
    trip = (time.perf_counter() - started) * 1000
    back, done = timed(counter, lambda: http.get(callback, allow_redirects=False), 302)
    if urlsplit(back.headers["Location"]).path != "/":
        raise SystemExit(f"{portal.name}: the callback sent {sub} to {back.headers}")
    both = tuple(a + b for a, b in zip(post, done, strict=True))
    return dict(zip(PARTS, (post, done, both, (trip, None, None),
                            (post[0] + trip + done[0], None, None)), strict=True))


def login(portal: Portal, provider, counter: Counter, http, case: str) -> dict:
    """One login of ``case`` with the browser ``http``: part → (wall, CPU, SQL)."""
    if case == CASES[0]:
        portal.new += 1
        return sso_login(portal, provider, counter, http, f"new-{portal.new - 1}")
    if case == CASES[1]:
        return sso_login(portal, provider, counter, http, RETURNING)
    response, measured = timed(counter, lambda: http.post(
        f"{portal.base}/login", data={"email": PASSWORD_EMAIL, "password": PASSWORD},
        allow_redirects=False), 302)
    if urlsplit(response.headers["Location"]).path != "/":
        raise SystemExit(f"{portal.name}: password login went to {response.headers}")
    return {"POST /login": measured}


def check_logged_in(portal: Portal, provider, counter: Counter) -> None:
    """Once: a returning SSO login and a password login really open /profile."""
    for case, email in ((CASES[1], f"{RETURNING}@{DOMAIN}"), (CASES[2], PASSWORD_EMAIL)):
        with requests.Session() as http:
            login(portal, provider, counter, http, case)
            page = http.get(f"{portal.base}/profile", allow_redirects=False)
            if page.status_code != 200 or email not in page.text:
                raise SystemExit(f"{portal.name}: not logged in as {email} ({page.status_code})")


def measure(portals: list[Portal], provider, counter: Counter, rounds: int) -> dict:
    results: dict[tuple[str, str, str], dict] = {}
    loads = []

    def one(portal: Portal, case: str, record: bool) -> None:
        with requests.Session() as http:  # a fresh browser
            measured = login(portal, provider, counter, http, case)
        for part, (wall, cpu, sql) in measured.items() if record else ():
            row = results.setdefault((case, part, portal.name),
                                     {"wall": [], "cpu": [], "sql": set()})
            row["wall"].append(wall)
            if cpu is not None:
                row["cpu"].append(cpu)
                row["sql"].add(sql)

    for portal in portals:
        for _ in range(2):
            for case in CASES:
                one(portal, case, record=False)
        check_logged_in(portal, provider, counter)
    for number in range(rounds):
        order = portals if number % 2 == 0 else list(reversed(portals))
        for case in CASES:
            for portal in order:
                one(portal, case, record=True)
        loads.append(os.getloadavg()[0])
        print(f"  round {number + 1}/{rounds} done, load average {loads[-1]:.2f}", flush=True)
    return {"results": results, "loads": loads, "rounds": rounds}


def report(measured: dict, sizes: dict[str, dict], markdown: bool) -> None:
    loads = measured["loads"]
    print(f"\n{measured['rounds']} rounds, load average (1 min) per round "
          f"{min(loads):.2f}–{max(loads):.2f}\n")
    names = list(sizes)
    print_table(["rows at the end (a few users)", *names],
                [[what, *(f"{sizes[n][what]:,}" for n in names)] for what in sizes[names[0]]],
                markdown, labels=1)
    print()
    rows = []
    for (case, part, name), row in sorted(measured["results"].items(), key=lambda item: (
            CASES.index(item[0][0]), ORDER.index(item[0][1]), item[0][2] != SQLITE)):
        cpu = f"{statistics.median(row['cpu']):,.1f}" if row["cpu"] else "—"
        sql = "/".join(str(n) for n in sorted(row["sql"])) or "—"
        rows.append([case, part, name, f"{statistics.median(row['wall']):,.1f}",
                     f"{pct(row['wall'], 0.9):,.1f}", cpu, sql])
    print_table(["case", "part", "database", "median ms", "p90 ms", "CPU ms", "SQL"], rows,
                markdown, labels=3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgresql-url", default=PG_DEFAULT)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.postgresql_url.rsplit("/", 1)[1] in ("test", "postgres"):
        parser.error("use a database of the bench's own, not test or postgres")
    print(machine())
    logging.disable(logging.INFO)  # the migrations' progress, the server's request lines
    started = time.perf_counter()
    from sqlalchemy import Engine

    from tests.sso.provider import free_port, start_provider

    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    workdir = Path(tempfile.mkdtemp(prefix="sso-bench-"))
    urls = {"sqlite": f"sqlite:///{workdir / 'bench.db'}", "postgresql": args.postgresql_url}
    names = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
    ports = {kind: free_port() for kind in kinds}
    client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
              "redirect_uris": [f"http://127.0.0.1:{p}/login/sso/callback"
                                for p in ports.values()],
              "post_logout_redirect_uris": [f"http://127.0.0.1:{p}/logout/done"
                                            for p in ports.values()]}
    counter = Counter(Engine)  # every engine: the apps' and the rate limiter's
    portals: list[Portal] = []
    try:
        with start_provider([client]) as provider:
            people = {f"new-{n}": account(f"new-{n}", f"Ny Person {n}")
                      for n in range(args.rounds + 2)}
            provider.set_accounts({RETURNING: account(RETURNING, "Kari Nordmann"), **people})
            for kind in kinds:
                if kind == "postgresql":
                    fresh_postgres(urls[kind])
                    print(f"PostgreSQL {postgres_version(urls[kind])}")
                portal = Portal(names[kind], kind, urls[kind], ports[kind], workdir)
                portal.seed(provider.issuer)
                portals.append(portal)
            print(f"provider {provider.issuer}; portals "
                  + ", ".join(f"{p.name} {p.base}" for p in portals)
                  + f"; Argon2 time cost {ARGON2['ARGON2_TIME_COST']}, memory "
                  f"{ARGON2['ARGON2_MEMORY_COST'] // 1024} MiB; measuring", flush=True)
            measured = measure(portals, provider, counter, args.rounds)
            report(measured, {p.name: p.sizes() for p in portals}, args.markdown)
    finally:
        for portal in portals:
            portal.stop()
        if "postgresql" in kinds and not args.keep:
            drop_postgres(urls["postgresql"])
        if args.keep:
            print(f"kept {workdir}" + (f" and {urls['postgresql']}" if "postgresql" in kinds
                                       else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\ntotal time {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
