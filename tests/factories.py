"""factory_boy factories for the models; they commit, like a real setup would."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from frikomport.accounts.models import User
from frikomport.accounts.passwords import hash_password
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.tenancy.models import Membership, Organisation, Role

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
