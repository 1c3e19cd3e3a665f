"""Small builders for the demand, reminder and invitation tests: competences, units with
requirements, holdings and courses that grant a competence."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from sqlalchemy import event, select

from frikomport.competence.models import (
    Competence,
    CompetenceRecord,
    CourseCompetence,
    RecordSource,
    RecordStatus,
    Requirement,
)
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage
from frikomport.notifications.rendering import render_or_drop
from frikomport.tenancy.models import Membership
from frikomport.units.models import Unit, UnitLeader
from tests.factories import CourseFactory


def competence(name: str, organisation=None, months: int | None = 12) -> Competence:
    item = Competence(name=name, validity_months=months,
                      organisation_id=organisation.id if organisation else None)
    db.session.add(item)
    db.session.commit()
    return item


def unit(organisation, name: str, *requirements, leaders=()) -> Unit:
    """A unit requiring ``requirements`` (competences, or (competence, job title) pairs)."""
    item = Unit(organisation_id=organisation.id, name=name)
    db.session.add(item)
    db.session.flush()
    for requirement in requirements:
        required, title = requirement if isinstance(requirement, tuple) else (requirement, "")
        db.session.add(Requirement(organisation_id=organisation.id, unit_id=item.id,
                                   competence_id=required.id, job_title=title))
    db.session.add_all(UnitLeader(organisation_id=organisation.id, unit_id=item.id,
                                  user_id=leader.id) for leader in leaders)
    db.session.commit()
    return item


def place(person, organisation, unit_) -> None:
    """Put the person in the unit (of their membership in the organisation)."""
    membership = db.session.query(Membership).filter_by(
        user_id=person.id, organisation_id=organisation.id).one()
    membership.unit_id = unit_.id
    db.session.commit()


def hold(person, competence_, valid_until: date | None, status=RecordStatus.APPROVED,
         valid_from: date = date(2020, 1, 1)) -> CompetenceRecord:
    source = RecordSource.COURSE if status == RecordStatus.APPROVED else RecordSource.EXTERNAL
    record = CompetenceRecord(user_id=person.id, competence_id=competence_.id, source=source,
                              status=status, valid_from=valid_from, valid_until=valid_until)
    db.session.add(record)
    db.session.commit()
    return record


def granting(organisation, *competences, **fields):
    """A course (published, in ten days, unless ``fields`` say otherwise) granting these."""
    course = CourseFactory(organisation=organisation, **fields)
    db.session.add_all(CourseCompetence(organisation_id=organisation.id, course_id=course.id,
                                        competence_id=c.id) for c in competences)
    db.session.commit()
    return course


def mail_to(address: str) -> list[OutboxMessage]:
    """The messages queued to ``address``, written as the sender would (dropped ones go)."""
    db.session.expire_all()
    messages = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == address).order_by(OutboxMessage.id)))
    written = [message for message in messages if render_or_drop(db.session, message)]
    db.session.commit()
    return written


@contextmanager
def counted_queries():
    """The SQL statements run inside the block."""
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
