"""Tables of the search subsystem.

``SearchJob`` is the index's outbox: a row is written in the same transaction as the
course change, and the single indexer applies it. ``SearchDocument`` holds the
documents of the PostgreSQL backend (on SQLite the table exists but stays empty).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from frikomport.db import UTCDateTime, db, utcnow


class TSVector(TypeDecorator):
    """``tsvector`` on PostgreSQL; plain text elsewhere (unused there)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(TSVECTOR() if dialect.name == "postgresql" else Text())


class SearchJob(db.Model):
    __tablename__ = "search_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: may be deleted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SearchDocument(db.Model):
    __tablename__ = "search_document"
    __table_args__ = (
        Index("ix_search_document_tsv", "tsv", postgresql_using="gin"),
        Index("ix_search_document_prefixes", "prefixes", postgresql_using="gin"),
    )

    course_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    organisation_slug: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(120))
    service_area: Mapped[str] = mapped_column(String(120))
    month: Mapped[str] = mapped_column(String(7))
    free_seats: Mapped[bool] = mapped_column(Boolean)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Analysed text (see search.analysis): stems weighted A (title), B (summary), C (body),
    # plus folded exact words as D; edge n-grams of the title for the typeahead.
    tsv: Mapped[str] = mapped_column(TSVector)
    prefixes: Mapped[str] = mapped_column(TSVector)
    spell: Mapped[str] = mapped_column(TSVector)  # words as written, for "did you mean"
