"""factory_boy factories for the models; they commit, like a real setup would."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from frikomport.accounts.models import User
from frikomport.accounts.passwords import hash_password
from frikomport.courses.models import (
    Category,
    Course,
    CourseSession,
    CourseState,
    Location,
    ServiceArea,
    Visibility,
)
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.timeutil import local_to_utc, to_local

DEFAULT_PASSWORD = "riktig-hest-batteri"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"kommune-{n}")
    name = factory.Sequence(lambda n: f"Testkommune {n}")
    region = "Kongsbergregionen"
    contact_email = factory.LazyAttribute(lambda o: f"kurs@{o.slug}.example.org")


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name", locale="no_NO")
    password_hash = factory.LazyFunction(lambda: hash_password(DEFAULT_PASSWORD))
    email_confirmed_at = factory.LazyFunction(utcnow)


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.EMPLOYEE


def member(organisation: Organisation, role: Role = Role.EMPLOYEE, **user_fields) -> User:
    """A user with ``role`` in ``organisation`` (their employer)."""
    user = UserFactory(home_organisation=organisation, **user_fields)
    MembershipFactory(organisation=organisation, user=user, role=role)
    db.session.refresh(user)
    return user


class CategoryFactory(BaseFactory):
    class Meta:
        model = Category
        exclude = ("organisation",)

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    name = factory.Sequence(lambda n: f"Kategori {n}")


class ServiceAreaFactory(CategoryFactory):
    class Meta:
        model = ServiceArea


class LocationFactory(CategoryFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Møterom {n}")
    address = "Kirkegata 1, 3616 Kongsberg"


def in_days(days: int, hour: int = 9, hours: int = 3) -> tuple[datetime, datetime]:
    """A session ``days`` from today at ``hour`` o'clock Oslo time."""
    day = to_local(utcnow()).date() + timedelta(days=days)
    return local_to_utc(day, time(hour)), local_to_utc(day, time(hour + hours))


class CourseFactory(BaseFactory):
    """A published course with one session in ten days (pass ``sessions=[]`` for none)."""

    class Meta:
        model = Course

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    title = factory.Sequence(lambda n: f"Kurs nummer {n}")
    summary = "Et nyttig kurs."
    capacity = 20
    visibility = Visibility.PUBLIC
    state = CourseState.PUBLISHED
    published_at = factory.LazyFunction(utcnow)

    @factory.post_generation
    def sessions(course, create, extracted, **_kwargs):
        periods = extracted if extracted is not None else [in_days(10)]
        course.sessions = [CourseSession(organisation_id=course.organisation_id, starts_at=start,
                                         ends_at=end) for start, end in periods]
        course.starts_at = min((start for start, _ in periods), default=None)
        course.ends_at = max((end for _, end in periods), default=None)
        if create:
            db.session.commit()


def register(course: Course, user: User, state=None, **fields):
    """A registration made directly in the database (bypassing the rules), counters kept."""
    from frikomport.registrations.models import Registration, RegistrationState

    state = state or RegistrationState.CONFIRMED
    registration = Registration(
        organisation_id=course.organisation_id, course=course, user=user, name=user.name,
        email=user.email, employer_organisation_id=user.home_organisation_id, state=state,
        queued_at=utcnow() if state == RegistrationState.WAITLISTED else None, **fields)
    if state in (RegistrationState.CONFIRMED, RegistrationState.ATTENDED):
        course.confirmed_count += 1
    if state == RegistrationState.WAITLISTED:
        course.waitlist_count += 1
    db.session.add(registration)
    db.session.commit()
    return registration
