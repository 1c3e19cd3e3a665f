"""A seeded world written back instead of seeded again: the same rows, much faster.

The fuzz test gives every route a world of its own (a route's POSTs change it), and
seeding one through the factories takes about a second — several minutes over ~450
routes and two backends. :class:`SeededSnapshot` seeds once, keeps every row of every
table (and the files the seeding wrote), and before each route empties the database and
inserts those rows again, resetting PostgreSQL's sequences, so each route starts from
the very state a fresh ``seed_world()`` would have made. Signed links in the world carry
the time they were made, so the snapshot is seeded afresh when it gets old (a deep run
with many examples per route can take hours; a password reset link lasts two).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text

from frikomport.accounts.models import User
from frikomport.extensions import db
from tests.conftest import _wipe
from tests.seeded_world import World, seed_world

MAX_AGE_SECONDS = 30 * 60


class SeededSnapshot:
    """``seed_world()`` once; :meth:`restore` puts the database back to that state."""

    def __init__(self, **seed_options):
        self._options = seed_options
        self._taken_at = 0.0

    def restore(self) -> World:
        """Empty the database and write the seeded rows back; the world, freshly loaded."""
        db.session.remove()
        if time.monotonic() - self._taken_at > MAX_AGE_SECONDS:
            self._take()
        else:
            _wipe(db.engine)
            self._write_back()
        return World(users={role: db.session.get(User, user_id)
                            for role, user_id in self._user_ids.items()},
                     fills=[dict(fill) for fill in self._fills], emails=dict(self._emails))

    def _take(self) -> None:
        _wipe(db.engine)
        world = seed_world(**self._options)
        self._user_ids = {role: user.id for role, user in world.users.items()}
        self._fills, self._emails = world.fills, world.emails
        db.session.remove()
        self._rows = {}
        with db.engine.connect() as connection:
            self._sequences = (_sequences(connection)
                               if connection.dialect.name == "postgresql" else [])
            for table in db.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                self._rows[table.name] = [dict(row._mapping)
                                          for row in connection.execute(query)]
        self._files = _copy_files(Path(current_app.config["DATA_DIR"]))
        self._taken_at = time.monotonic()

    def _write_back(self) -> None:
        with db.engine.begin() as connection:
            for table in db.metadata.sorted_tables:
                if self._rows[table.name]:
                    connection.execute(table.insert(), self._rows[table.name])
            _reset_sequences(connection, self._sequences)
        shutil.copytree(self._files, current_app.config["DATA_DIR"], dirs_exist_ok=True)


def _copy_files(data_dir: Path) -> Path:
    """The files seeding wrote (an attachment), to put back any a route deleted."""
    copy = data_dir.parent / f"{data_dir.name}-snapshot"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(data_dir, copy)
    return copy


def _sequences(connection) -> list[tuple[str, object]]:
    """PostgreSQL: the sequence behind each table's generated id, with the id column."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                         {"t": f'"{table.name}"', "c": column.name})
            if sequence:
                found.append((sequence, column))
    return found


def _reset_sequences(connection, sequences) -> None:
    """After rows were inserted with their ids, the next id must come after them."""
    for sequence, column in sequences:
        highest = connection.scalar(select(func.max(column)))
        connection.execute(text("SELECT setval(:s, :v, :called)"),
                           {"s": sequence, "v": highest or 1, "called": highest is not None})
