"""A ``limits`` storage on the portal's database, so every worker and every host counts
against the same limit (``memory://`` counts per process: with ``gunicorn -w 4`` a
"10 per minute" limit would really be 40).

Each call runs in its own short transaction, independent of the request's transaction
(a refused login rolls back, but its counter must stay), on a small engine of its own:
taking a second connection from the request's pool while the request holds one could
exhaust that pool under load. The upsert is one statement on both SQLite (≥ 3.35) and
PostgreSQL, so concurrent hits cannot lose counts.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.exc import SQLAlchemyError

from frikomport.extensions import db
from frikomport.ratelimit.models import RateLimitCounter
from frikomport.signing import digest

SCHEME = "frikomport-db"
_UPSERT = text("""
    INSERT INTO rate_limit_counter (key, count, expires_at) VALUES (:key, :amount, :expires)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limit_counter.expires_at <= :now THEN :amount
                     ELSE rate_limit_counter.count + :amount END,
        expires_at = CASE WHEN rate_limit_counter.expires_at <= :now THEN :expires
                          ELSE rate_limit_counter.expires_at END
    RETURNING count
""")
_READ = text("SELECT count, expires_at FROM rate_limit_counter WHERE key = :key")


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine() -> Engine:
    """An engine on the app's database with a pool of its own (an in-memory SQLite
    database exists only in the app's own connection, so that one is shared)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return db.engine
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = create_engine(url, pool_size=2, max_overflow=8,
                                          pool_pre_ping=True)
        return _engines[key]



class DatabaseStorage(Storage):
    """``RATELIMIT_STORAGE_URI=frikomport-db://`` (the default)."""

    STORAGE_SCHEME = [SCHEME]

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with _engine().begin() as connection:
            return connection.execute(_UPSERT, {"key": digest(key), "amount": amount,
                                                "expires": now + expiry, "now": now}).scalar()

    def _row(self, key: str):
        with _engine().connect() as connection:
            row = connection.execute(_READ, {"key": digest(key)}).first()
        return row if row is not None and row.expires_at > time.time() else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row else time.time()

    def check(self) -> bool:
        with _engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return True

    def reset(self) -> int | None:
        with _engine().begin() as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with _engine().begin() as connection:
            connection.execute(delete(RateLimitCounter).where(
                RateLimitCounter.key == digest(key)))


def purge_expired(session) -> int:
    """Delete counters whose window has ended (housekeeping)."""
    return session.execute(delete(RateLimitCounter).where(
        RateLimitCounter.expires_at <= time.time())).rowcount
