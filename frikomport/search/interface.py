"""The search contract every backend implements; views and services use only this."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from markupsafe import Markup


class IndexUnavailable(RuntimeError):
    """The index is missing, broken or being rebuilt; callers fall back gracefully."""


@dataclass(frozen=True)
class Viewer:
    """Who is searching: the adapter applies visibility for this viewer on every query."""

    authenticated: bool = False
    site_admin: bool = False
    organisation_ids: frozenset[int] = frozenset()

    @classmethod
    def for_user(cls, user) -> Viewer:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls()
        return cls(True, user.is_site_admin,
                   frozenset(m.organisation_id for m in user.memberships))


@dataclass(frozen=True)
class CourseDocument:
    """What is indexed for one published course."""

    course_id: int
    organisation_id: int
    organisation_slug: str
    organisation_name: str
    visibility: str
    title: str
    summary: str
    body: str  # description as plain text, plus target group, instructor, location
    category: str
    service_area: str
    starts_at: datetime
    ends_at: datetime
    month: str  # YYYY-MM in Oslo time
    free_seats: bool


@dataclass(frozen=True)
class SearchQuery:
    text: str
    viewer: Viewer
    organisation: str = ""      # slug
    category: str = ""
    service_area: str = ""
    month: str = ""             # YYYY-MM
    free_seats: bool = False
    sort: str = "relevance"     # or "date"
    page: int = 1
    per_page: int = 20
    now: datetime | None = None
    include_past: bool = False  # also courses that have ended ("Include earlier courses")


@dataclass(frozen=True)
class SearchHit:
    course_id: int
    title: str
    snippet: Markup  # escaped text with <mark> around matches, made safe by the backend
    score: float


@dataclass
class SearchResults:
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None  # "did you mean"

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


@dataclass(frozen=True)
class Suggestion:
    course_id: int
    title: str


class SearchBackend(Protocol):
    name: str

    def update(self, documents: Iterable[CourseDocument], deleted: Iterable[int]) -> None:
        """Add or replace these documents and remove the deleted course ids."""

    def search(self, query: SearchQuery) -> SearchResults: ...

    def suggest(self, prefix: str, viewer: Viewer, limit: int = 8,
                now: datetime | None = None) -> list[Suggestion]: ...

    def rebuild(self, documents: Iterable[CourseDocument]) -> int:
        """Replace the whole index with these documents; return how many."""

    def health(self) -> dict: ...


FACETS = ("organisation", "category", "service_area", "month", "free_seats")


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
