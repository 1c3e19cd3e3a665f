"""Keeping the index in step with the database.

Course changes add a ``SearchJob`` row in the same transaction (see :func:`enqueue`);
one indexer applies the jobs (:func:`process_jobs`). A rebuild reads every course into
a new index and then replays the jobs of the last minutes, so changes made while it ran
are not lost (applying a job twice is harmless).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from frikomport.db import utcnow
from frikomport.search.documents import all_documents, documents_for_ids
from frikomport.search.interface import SearchBackend
from frikomport.search.models import SearchJob

log = logging.getLogger(__name__)

BATCH = 500
REPLAY_MARGIN = timedelta(minutes=5)
KEEP_PROCESSED = timedelta(days=1)


def enqueue(course, *, session: Session, **_kwargs) -> None:
    """Signal receiver: remember that this course must be (re)indexed."""
    if course.id is not None:
        session.add(SearchJob(course_id=course.id))


def process_jobs(session: Session, backend: SearchBackend) -> int:
    """Apply pending jobs in batches; return how many jobs were handled."""
    handled = 0
    while True:
        jobs = list(session.scalars(
            select(SearchJob).where(SearchJob.processed_at.is_(None)).order_by(SearchJob.id)
            .limit(BATCH).with_for_update(skip_locked=True)))
        if not jobs:
            break
        _apply(session, backend, {job.course_id for job in jobs})
        now = utcnow()
        for job in jobs:
            job.processed_at = now
        session.commit()
        handled += len(jobs)
    session.execute(delete(SearchJob).where(SearchJob.processed_at < utcnow() - KEEP_PROCESSED))
    session.commit()
    return handled


def _apply(session: Session, backend: SearchBackend, course_ids: set[int]) -> None:
    documents, deleted = documents_for_ids(session, course_ids)
    backend.update(documents, deleted)


def rebuild(session: Session, backend: SearchBackend) -> int:
    """Rebuild the whole index from the database; return the number of documents."""
    started = utcnow()
    count = backend.rebuild(all_documents(session))
    session.commit()  # end the long read transaction
    recent = set(session.scalars(select(SearchJob.course_id).where(
        SearchJob.created_at >= started - REPLAY_MARGIN)))
    if recent:
        _apply(session, backend, recent)
    session.commit()
    log.info("Search index rebuilt with %s documents (%s recent changes replayed)",
             count, len(recent))
    return count
