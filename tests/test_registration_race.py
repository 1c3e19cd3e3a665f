"""Capacity is never exceeded under concurrent registrations.

Fifty people, each with their own HTTP client, request context, database session and
connection, press "register" at the same moment for a course with five seats. On
PostgreSQL the course row lock serialises the decisions; on SQLite the write lock does.
"""

import threading

from sqlalchemy import func, select

from frikomport.courses.models import Course
from frikomport.extensions import db
from frikomport.registrations.models import Registration, RegistrationState
from tests.factories import CourseFactory, OrganisationFactory, member

RACERS = 50
SEATS = 5


def test_fifty_racers_five_seats(app, login):
    organisation = OrganisationFactory()
    course = CourseFactory(organisation=organisation, capacity=SEATS)
    clients = []
    for _ in range(RACERS):
        client = app.test_client()
        login(member(organisation), test_client=client)
        clients.append(client)

    url = f"/courses/{course.id}/register"  # read here: threads have no app context
    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def race(client):
        try:
            barrier.wait(timeout=30)
            statuses.append(client.post(url).status_code)
        except BaseException as error:  # surfaced below, never swallowed
            errors.append(error)

    threads = [threading.Thread(target=race, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert statuses == [302] * RACERS
    db.session.expire_all()
    counts = dict(db.session.execute(
        select(Registration.state, func.count()).where(Registration.course_id == course.id)
        .group_by(Registration.state)).all())
    assert counts == {RegistrationState.CONFIRMED: SEATS,
                      RegistrationState.WAITLISTED: RACERS - SEATS}
    stored = db.session.get(Course, course.id)
    assert (stored.confirmed_count, stored.waitlist_count) == (SEATS, RACERS - SEATS)
    # Everyone on the waiting list has a distinct place in the queue.
    queue = db.session.scalars(select(Registration.queued_at).where(
        Registration.state == RegistrationState.WAITLISTED)).all()
    assert len(queue) == RACERS - SEATS and None not in queue
