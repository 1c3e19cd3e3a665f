"""Files and folders on disk that belong to rows being deleted (uploaded certificates):
removed when the deletion is committed, never when it is rolled back; and files just
written for rows being added: removed when the addition is rolled back (or abandoned).

A file cannot be rolled back, so it is only queued while the rows go, in the session's
``info`` with the transaction (or savepoint) it was queued in. A rollback forgets what was
queued inside it — the retention rules' dry run deletes rows in a savepoint it rolls
back, and a refused account deletion rolls back its savepoint — and the outermost commit
removes the rest.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

_QUEUE = "frikomport_files_to_remove"
_WRITTEN = "frikomport_files_written"


def remove_after_commit(session: Session | scoped_session, paths: Iterable[Path]) -> None:
    _queue(session, _QUEUE, paths)


def remove_if_rolled_back(session: Session | scoped_session, paths: Iterable[Path]) -> None:
    """Files just written for rows being added: a retried request (a lost lock race) or
    a refused one would otherwise leave them on disk with no row pointing at them."""
    _queue(session, _WRITTEN, paths)


def _queue(session: Session | scoped_session, key: str, paths: Iterable[Path]) -> None:
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(key, []).extend((transaction, Path(p)) for p in paths)


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _split(session: Session, key: str, ended: SessionTransaction) -> list[Path]:
    """Take what was queued under ``key`` inside ``ended`` off the queue."""
    queued = session.info.get(key)
    if not queued:
        return []
    session.info[key] = [(t, path) for t, path in queued if not _inside(t, ended)]
    return [path for t, path in queued if _inside(t, ended)]


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, ended: SessionTransaction) -> None:
    _split(session, _QUEUE, ended)
    _remove(_split(session, _WRITTEN, ended))


@event.listens_for(Session, "after_commit")
def _remove_committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the outer transaction may still roll back
    session.info.pop(_WRITTEN, None)  # their rows are committed: the files are kept
    _remove(path for _transaction, path in session.info.pop(_QUEUE, []))


@event.listens_for(Session, "after_transaction_end")
def _remove_abandoned(session: Session, ended: SessionTransaction) -> None:
    """A session closed without commit or rollback (an error page) ends its
    transaction without ``after_soft_rollback``: files written in it go too."""
    if ended.parent is None:
        session.info.pop(_QUEUE, None)
        _remove(path for _transaction, path in session.info.pop(_WRITTEN, []))
