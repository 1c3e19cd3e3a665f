"""Race N clients registering for one course over HTTP against a running FriKomPort server.

Usage (in a second terminal, with the same configuration as the server, so it sees the
same database and SECRET_KEY):

    make run                                        # or gunicorn on PostgreSQL
    .venv/bin/python bench/register_race.py --clients 500 --seats 20

The script creates a throw-away organisation with N confirmed employees and a public
course with the given number of seats, gives every employee a logged-in session cookie
and CSRF token (minted with the app's own signing key, so login rate limits and password
hashing do not distort the measurement), releases all clients at once and prints how many
got a seat, how many were waitlisted, throughput and latency — and checks the database.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import session
from flask_login import login_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from frikomport import create_app
from frikomport.accounts import sessions
from frikomport.accounts.models import User
from frikomport.courses.models import Course, CourseSession, CourseState, Visibility
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.registrations.models import Registration
from frikomport.tenancy.models import Membership, Organisation, Role


@dataclass
class Client:
    cookie: str
    csrf_token: str


def prepare(app, clients: int, seats: int) -> tuple[int, list[Client]]:
    """Create the organisation, users and course; return the course id and clients."""
    with app.app_context():
        stamp = int(time.time())
        organisation = Organisation(slug=f"bench-{stamp}", name=f"Benchmark {stamp}")
        db.session.add(organisation)
        users = []
        for number in range(clients):
            user = User(email=f"bench-{stamp}-{number}@bench.example.org",
                        name=f"Bench {number}", email_confirmed_at=utcnow(),
                        home_organisation=organisation)
            user.memberships.append(Membership(organisation=organisation, role=Role.EMPLOYEE))
            users.append(user)
        db.session.add_all(users)
        start = utcnow() + timedelta(days=14)
        course = Course(organisation=organisation, title=f"Benchmark {stamp}", capacity=seats,
                        visibility=Visibility.PUBLIC, state=CourseState.PUBLISHED,
                        published_at=utcnow(), starts_at=start,
                        ends_at=start + timedelta(hours=2))
        db.session.add(course)
        db.session.flush()
        course.sessions = [CourseSession(organisation_id=organisation.id, starts_at=start,
                                         ends_at=start + timedelta(hours=2))]
        db.session.commit()
        return course.id, [_session_for(app, user) for user in users]


def _session_for(app, user: User) -> Client:
    """A signed session cookie for a logged-in user, and the matching CSRF token.

    A fresh app context per user: Flask-WTF caches the token in ``g``, which would
    otherwise be shared by every user prepared in the same context.
    """
    with app.app_context(), app.test_request_context("/"):
        user = db.session.merge(user)
        sessions.start(db.session, user)  # a server-side login session, as the login form makes
        db.session.commit()
        login_user(user)
        token = generate_csrf()
        serializer = app.session_interface.get_signing_serializer(app)
        cookie = f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}"
    return Client(cookie=cookie, csrf_token=token)


def race(base_url: str, course_id: int, clients: list[Client], concurrency: int):
    """Send every client's registration, ``concurrency`` at a time, all released together."""
    parts = urlsplit(base_url)
    path = f"/courses/{course_id}/register"
    pending = list(clients)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    barrier = threading.Barrier(concurrency + 1)

    def worker():
        barrier.wait()
        while True:
            with lock:
                if not pending:
                    return
                client = pending.pop()
            began = time.perf_counter()
            status = _post(parts.hostname, parts.port or 80, path, client)
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def _post(host: str, port: int, path: str, client: Client) -> int:
    connection = http.client.HTTPConnection(host, port, timeout=120)
    try:
        connection.request("POST", path, body=f"csrf_token={client.csrf_token}&comment=",
                           headers={"Cookie": client.cookie,
                                    "Content-Type": "application/x-www-form-urlencoded"})
        return connection.getresponse().status
    except OSError:
        return 0  # connection refused or reset: reported as status 0
    finally:
        connection.close()


def database_counts(app, course_id: int) -> tuple[dict[str, int], Course]:
    with app.app_context():
        rows = db.session.execute(
            select(Registration.state, func.count()).where(Registration.course_id == course_id)
            .group_by(Registration.state)).all()
        course = db.session.get(Course, course_id)
        db.session.expunge(course)
        return {state.value: count for state, count in rows}, course


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=100,
                        help="requests in flight at once (the server's backlog is finite)")
    args = parser.parse_args()

    app = create_app()
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    print(f"preparing {args.clients} users and a course with {args.seats} seats …")
    course_id, clients = prepare(app, args.clients, args.seats)
    elapsed, latencies, statuses = race(args.base_url, course_id, clients,
                                        min(args.concurrency, args.clients))
    counts, course = database_counts(app, course_id)

    latencies.sort()
    print(f"requests: {len(latencies)} in {elapsed:.2f} s "
          f"= {len(latencies) / elapsed:.1f} registrations/s")
    print(f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
    print(f"HTTP statuses: {dict(sorted(statuses.items()))}")
    print(f"confirmed: {counts.get('confirmed', 0)}  waitlisted: {counts.get('waitlisted', 0)}"
          f"  (course counters {course.confirmed_count}/{course.capacity}, "
          f"waiting {course.waitlist_count})")
    correct = (counts.get("confirmed", 0) == min(args.seats, args.clients)
               == course.confirmed_count
               and counts.get("waitlisted", 0) == course.waitlist_count)
    print("capacity respected: " + ("yes" if correct else "NO"))
    return 0 if correct else 1


if __name__ == "__main__":
    raise SystemExit(main())
