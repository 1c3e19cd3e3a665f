"""Files and folders on disk that belong to rows being deleted (uploaded certificates):
removed when the deletion is committed, never when it is rolled back.

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


def remove_after_commit(session: Session | scoped_session, paths: Iterable[Path]) -> None:
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_QUEUE, []).extend((transaction, Path(p)) for p in paths)


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, ended: SessionTransaction) -> None:
    queued = session.info.get(_QUEUE)
    if queued:
        session.info[_QUEUE] = [(transaction, path) for transaction, path in queued
                                if not _inside(transaction, ended)]


@event.listens_for(Session, "after_commit")
def _remove_committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the outer transaction may still roll back
    for _transaction, path in session.info.pop(_QUEUE, []):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
