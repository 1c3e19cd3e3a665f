"""Turn courses into search documents (the index is derived data, rebuilt from these)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from frikomport.courses.markdown import render_markdown
from frikomport.courses.models import Course, CourseState
from frikomport.search.interface import CourseDocument, month_key
from frikomport.timeutil import to_local

TAG = re.compile(r"<[^>]+>")


def plain_text(markdown_source: str) -> str:
    """Markdown as the reader sees it, without markup."""
    return html.unescape(TAG.sub(" ", str(render_markdown(markdown_source)))).strip()


def is_indexed(course: Course) -> bool:
    return course.state == CourseState.PUBLISHED and course.starts_at is not None


def document_for(course: Course) -> CourseDocument:
    location = course.location
    extra = [course.target_group, course.instructor,
             location.name if location else "", location.address if location else ""]
    return CourseDocument(
        course_id=course.id, organisation_id=course.organisation_id,
        organisation_slug=course.organisation.slug,
        organisation_name=course.organisation.name, visibility=course.visibility.value,
        title=course.title, summary=course.summary,
        body=" ".join([plain_text(course.description), *filter(None, extra)]),
        category=course.category.name if course.category else "",
        service_area=course.service_area.name if course.service_area else "",
        starts_at=course.starts_at, ends_at=course.ends_at,
        month=month_key(to_local(course.starts_at).date()),
        free_seats=course.confirmed_count < course.capacity,
    )


def _loaded(query):
    return query.options(joinedload(Course.organisation), joinedload(Course.category),
                         joinedload(Course.service_area), joinedload(Course.location))


def documents_for_ids(session: Session, course_ids: set[int]) -> tuple[list[CourseDocument],
                                                                       set[int]]:
    """Documents for the courses that should be in the index, and the ids to remove."""
    courses = session.scalars(_loaded(select(Course).where(Course.id.in_(course_ids)))).all()
    documents = [document_for(c) for c in courses if is_indexed(c)]
    return documents, course_ids - {d.course_id for d in documents}


def all_documents(session: Session, batch: int = 1000) -> Iterator[CourseDocument]:
    query = _loaded(select(Course).where(Course.state == CourseState.PUBLISHED,
                                         Course.starts_at.is_not(None)).order_by(Course.id))
    for course in session.scalars(query.execution_options(yield_per=batch)):
        yield document_for(course)
