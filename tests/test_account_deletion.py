"""Deleting an account leaves no personal value anywhere, cancels upcoming registrations
through the engine (the waiting list moves up) and keeps past ones as statistics."""

from __future__ import annotations

from sqlalchemy import String, Text, func, or_, select

from frikomport.accounts.models import LoginSession, User
from frikomport.audit.services import record
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.notifications.services import queue_email
from frikomport.registrations.models import Registration, RegistrationEvent
from frikomport.registrations.models import RegistrationState as S
from frikomport.sso import crypto, logout
from frikomport.sso.models import ExternalIdentity, IdentityProvider, SsoDomain, SsoSession
from frikomport.tenancy import invitations
from frikomport.tenancy.models import Role
from tests.factories import (
    DEFAULT_PASSWORD,
    CourseFactory,
    OrganisationFactory,
    UserFactory,
    in_days,
    member,
    register,
)
from tests.helpers import link_in, outbox

NAME, EMAIL, PHONE = "Dorthe Dataslett", "dorthe.dataslett@example.org", "98765432"


def _world():
    home, host = OrganisationFactory(), OrganisationFactory()
    person = member(home, Role.ORGANISER, name=NAME, email=EMAIL, phone=PHONE,
                    job_title="Helsefagarbeider")
    admin = member(host, Role.ADMIN)
    full = CourseFactory(organisation=host, capacity=1, sessions=[in_days(20)])
    past = CourseFactory(organisation=host, sessions=[in_days(-60)])
    register(full, person, S.CONFIRMED, comment=f"Allergi – ring {PHONE}")
    waiting = register(full, member(host), S.WAITLISTED)
    register(past, person, S.ATTENDED, comment="Kom tidlig")
    CourseFactory(organisation=home, contact_name=NAME, contact_email=EMAIL,
                  contact_phone=PHONE, created_by_id=person.id)
    invitations.invite(db.session, admin, host, email=EMAIL, name=NAME, role=Role.EMPLOYEE)
    queue_email(db.session, EMAIL, f"Hei {NAME}", "tekst")
    record(db.session, admin, "membership.changed", person, host, user=EMAIL, name=NAME)
    db.session.commit()
    return person, full, past, waiting


def _text_values_holding(*needles: str) -> list[tuple[str, str]]:
    """(table.column, value) of every text value anywhere that contains a needle."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)
                   or c.type.__class__.__name__ == "JSON"]
        for column in columns:
            text = column.cast(Text) if column.type.__class__.__name__ == "JSON" else column
            rows = db.session.execute(select(text).where(
                or_(*(text.contains(needle) for needle in needles)))).scalars().all()
            found += [(f"{table.name}.{column.name}", str(value)) for value in rows]
    return found


def test_deleting_my_account_leaves_no_personal_value_in_any_table(client, login):
    person, *_ = _world()
    assert _text_values_holding(NAME, EMAIL, PHONE)  # the scan does find them before
    login(person)
    assert "Kurs nummer" in client.get("/me/delete").text  # lists what will be cancelled
    response = client.post("/me/delete", data={"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert _text_values_holding(NAME, EMAIL, PHONE) == []
    assert db.session.scalar(select(User).where(User.email == EMAIL)) is None
    assert client.get("/me/registrations").status_code == 302  # logged out


def test_upcoming_seats_go_to_the_waiting_list_and_statistics_stay(client, login):
    person, full, past, waiting = _world()
    login(person)
    client.post("/me/delete", data={"password": DEFAULT_PASSWORD})
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).state == S.CONFIRMED  # promoted
    states = dict(db.session.execute(select(Registration.course_id, Registration.state).where(
        Registration.user_id.is_(None), Registration.email == "")).all())
    assert states == {full.id: S.CANCELLED, past.id: S.ATTENDED}  # kept as statistics
    notes = db.session.scalars(select(RegistrationEvent.note).where(
        RegistrationEvent.to_state == "cancelled")).all()
    assert "the participant's account was deleted" in notes


def test_a_wrong_password_deletes_nothing(client, login):
    person, *_ = _world()
    login(person)
    response = client.post("/me/delete", data={"password": "feil passord"})
    assert response.status_code == 400 and "Passordet er feil" in response.text
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email == EMAIL)) == 1


def test_the_last_admin_must_hand_over_first(client, login):
    organisation = OrganisationFactory()
    only_admin = member(organisation, Role.ADMIN)
    login(only_admin)
    response = client.post("/me/delete", data={"password": DEFAULT_PASSWORD})
    assert response.status_code == 400 and "siste administrator" in response.text
    assert db.session.get(User, only_admin.id) is not None


def test_a_site_admin_deletes_on_request_and_nobody_else_can(client, login):
    person, *_ = _world()
    login(member(OrganisationFactory(), Role.ADMIN))
    assert client.get(f"/admin/users/{person.id}/delete").status_code in (403, 404)
    assert client.post(f"/admin/users/{person.id}/delete").status_code in (403, 404)
    client.post("/logout")
    login(UserFactory(is_site_admin=True))
    page = client.get(f"/admin/users/{person.id}/delete").text
    assert NAME in page and "Kurs nummer" in page
    assert client.post(f"/admin/users/{person.id}/delete").status_code == 302
    db.session.expire_all()
    assert _text_values_holding(NAME, EMAIL, PHONE) == []


def test_a_guest_sees_and_deletes_their_registration_from_the_email(client):
    host = OrganisationFactory()
    course = CourseFactory(organisation=host, capacity=1, allow_guests=True,
                           sessions=[in_days(15)])
    client.post(f"/courses/{course.id}/register/guest", data={
        "name": NAME, "email": EMAIL, "phone": PHONE, "employer": "Firma AS",
        "comment": "Rullestol"})
    client.get(link_in(outbox(EMAIL)[0], "/confirm/"))
    waiting = register(course, member(host), S.WAITLISTED)
    confirmation = outbox(EMAIL)[-1]
    path = link_in(confirmation, "/registrations/data/")
    page = client.get(path).text
    assert NAME in page and PHONE in page and "Rullestol" in page
    assert client.post(path).status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).state == S.CONFIRMED  # promoted
    assert _text_values_holding(NAME, EMAIL, PHONE) == []
    assert client.get(path, follow_redirects=True).status_code == 200  # link now invalid


def test_disabled_accounts_are_deleted_after_the_retention_period(app, client, login):
    from datetime import timedelta

    from frikomport.db import utcnow
    from frikomport.privacy.retention import purge

    person, *_ = _world()
    lonely = OrganisationFactory()
    last_admin = member(lonely, Role.ADMIN, name="Siste Sjef")
    recent = UserFactory(name="Nylig Deaktivert")
    login(UserFactory(is_site_admin=True))
    for user in (person, last_admin, recent):
        client.post(f"/admin/users/{user.id}/enabled", data={"enabled": "0"})
    db.session.expire_all()
    for user in (person, last_admin):
        db.session.get(User, user.id).disabled_at = utcnow() - timedelta(days=400)
    db.session.commit()

    dry = purge(db.session, dry_run=True)
    assert dry["disabled accounts deleted"] == 1
    assert db.session.get(User, person.id) is not None  # a dry run deletes nothing
    assert purge(db.session)["disabled accounts deleted"] == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, person.id) is None
    assert db.session.get(User, last_admin.id) is not None  # its organisation needs it
    assert db.session.get(User, recent.id) is not None
    assert _text_values_holding(NAME, EMAIL, PHONE) == []
    assert purge(db.session)["disabled accounts deleted"] == 0


def test_linked_logins_and_sso_sessions_go_with_the_account(app, client, login):
    """external_identity and sso_session rows go (ON DELETE CASCADE); a domain the
    person approved stays, without them (SET NULL)."""
    person, *_ = _world()
    organisation = person.memberships[0].organisation
    provider = IdentityProvider(organisation=organisation, issuer="https://login.example.org",
                                client_id="portal", client_secret_encrypted=crypto.encrypt("x"))
    db.session.add(provider)
    db.session.flush()
    db.session.add_all([
        ExternalIdentity(organisation_id=organisation.id, provider=provider,
                         user_id=person.id, subject="sub-dorthe"),
        SsoDomain(organisation_id=organisation.id, provider=provider,
                  domain="dataslett.example.org", approved_by_id=person.id, approved_at=utcnow())])
    db.session.commit()
    login(person)
    login_session = db.session.scalar(select(LoginSession).where(
        LoginSession.user_id == person.id))
    logout.remember(db.session, login_session, provider, "https://login.example.org/logout")
    db.session.commit()
    assert client.post("/me/delete", data={"password": DEFAULT_PASSWORD}).status_code == 302
    db.session.expire_all()
    for model in (ExternalIdentity, SsoSession):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    [domain] = db.session.scalars(select(SsoDomain)).all()
    assert domain.approved_by_id is None and domain.approved_at is not None
