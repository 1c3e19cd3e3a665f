"""Database handle, naming conventions and column types shared by all models."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import DateTime, Enum, MetaData, Select, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(UTC)


def string_enum(cls, name: str, length: int = 12) -> Enum:
    """A Python enum stored as its values in a VARCHAR with a CHECK constraint (the same
    on SQLite and PostgreSQL, and a new value needs no ALTER TYPE)."""
    return Enum(cls, native_enum=False, create_constraint=True, length=length, name=name,
                values_callable=lambda items: [i.value for i in items])


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores it as ``timestamptz``; SQLite has no time zones, so the value is
    stored as naive UTC and made aware again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def lock_row(session: Session, model, row_id: int):
    """Lock one row until the transaction ends and return it, freshly read (or None).

    On PostgreSQL this is ``SELECT … FOR UPDATE``: others who lock the same row wait for
    our commit and then read what we wrote. SQLite has no row locks, so a no-op UPDATE
    takes the database write lock instead (a transaction that read older data before it
    fails with "database is locked" and is retried by the caller).
    """
    found = lock_rows(session, model, [row_id])
    return found[0] if found else None


def lock_rows(session: Session, model, row_ids) -> list:
    """Lock these rows (as :func:`lock_row`, in the order of their ids, so two callers
    cannot each hold what the other waits for) and return them, freshly read."""
    ids = sorted(set(row_ids))
    if not ids:
        return []
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(model).where(model.id == ids[0]).values(id=model.id))
    return list(session.scalars(select(model).where(model.id.in_(ids)).order_by(model.id)
                                .with_for_update().execution_options(populate_existing=True)))


def is_lock_conflict(error: Exception) -> bool:
    """A transaction lost a race for a lock and may simply be retried.

    SQLite reports "database is locked" when another connection holds (or has just used)
    the write lock; PostgreSQL reports deadlocks and serialisation failures by SQLSTATE.
    """
    original = getattr(error, "orig", None)
    if original is None:
        return False
    if "database is locked" in str(original):
        return True
    return getattr(original, "sqlstate", None) in {"40001", "40P01", "55P03"}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Enforce foreign keys and allow concurrent readers on SQLite."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


# Upper-case letters SQLite's lower() leaves as they are (it only knows ASCII).
_NON_ASCII_CAPITALS = "ÆØÅÄÖÜÉÈÁ"


def casefolded(expression):
    """Lower-cased in SQL alike on SQLite and PostgreSQL (Norwegian letters included), for
    searches that ignore case: ``casefolded(column).contains(text.lower(), autoescape=True)``."""
    for capital in _NON_ASCII_CAPITALS:
        expression = func.replace(expression, capital, capital.lower())
    return func.lower(expression)


def page_of(session: Session, query: Select, page: int, per_page: int) -> SelectPagination:
    """One page of ``query`` (a count and one LIMIT/OFFSET read); a page beyond the end
    gives the last one, as a link from a list that has since shrunk expects."""
    def read(number: int) -> SelectPagination:
        return SelectPagination(select=query, session=session, page=number, per_page=per_page,
                                max_per_page=None, error_out=False)

    listing = read(page)
    return read(listing.pages) if listing.page > listing.pages > 0 else listing
