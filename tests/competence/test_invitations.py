"""Inviting the people who need what a course grants: only those who need it, only those
who may see the course, nobody twice, nobody registered; organisers of the host only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from frikomport.accounts.models import User
from frikomport.audit.models import AuditEvent
from frikomport.competence.models import CourseInvitation
from frikomport.competence.records import add_months, today
from frikomport.courses.models import CourseState, Visibility
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage
from frikomport.registrations.models import RegistrationState
from frikomport.tenancy.models import Role
from tests.competence.builders import competence, granting, hold, mail_to, make_unit, place
from tests.factories import in_days, member, register


@pytest.fixture
def world(kongsberg, notodden):
    """Kongsberg's ward and Notodden's home care require first aid; who needs it."""
    first_aid = competence("Førstehjelp", months=24)
    ward = make_unit(kongsberg, "Sykehjemmet", requires=[first_aid])
    home_care = make_unit(notodden, "Hjemmetjenesten", requires=[first_aid])
    people = {}
    for name, organisation, where in [
            ("anna", kongsberg, ward), ("bodil", kongsberg, ward), ("carl", kongsberg, ward),
            ("dora", kongsberg, ward), ("erik", kongsberg, ward), ("nils", notodden, home_care),
            ("outside", notodden, None)]:
        people[name] = member(organisation, name=name.title(),
                              email=f"{name}@example.org")
        if where is not None:
            place(people[name], where)
    hold(people["bodil"], first_aid, None)  # holds it for good
    hold(people["carl"], first_aid, add_months(today(), 3) - timedelta(days=1))
    return first_aid, people


def _url(course, slug="kongsberg"):
    return f"/o/{slug}/admin/courses/{course.id}/invite-needing"


def _invited(course) -> set[str]:
    """Who has an invitation to the course (by the name before @); each has one e-mail."""
    db.session.expire_all()
    invited = {email.split("@")[0] for email in db.session.scalars(
        select(User.email).join(CourseInvitation, CourseInvitation.user_id == User.id)
        .where(CourseInvitation.course_id == course.id))}
    queued = [message.to_address.split("@")[0] for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.renderer == "competence_invitation"))]
    assert sorted(queued) == sorted(invited)
    return invited


def test_preview_counts_then_invites_those_who_need_it_once(client, login, kongsberg, world):
    first_aid, people = world
    course = granting(kongsberg, first_aid, title="Førstehjelp grunnkurs")
    register(course, people["dora"])
    register(course, people["erik"], state=RegistrationState.CANCELLED)
    organiser = member(kongsberg, Role.ORGANISER)
    login(organiser)
    page = client.get(_url(course))
    assert page.status_code == 200
    assert "Inviter dem som trenger «Førstehjelp grunnkurs»" in page.text
    # anna (never held), carl (runs out in three months), erik (cancelled) and nils.
    assert '<th scope="row">Kongsberg kommune</th><td class="number">3</td>' in page.text
    assert '<th scope="row">Notodden kommune</th><td class="number">1</td>' in page.text
    assert "Send invitasjonen til 4 personer" in page.text
    assert not any(name in page.text for name in ("Anna", "Carl", "Erik", "Nils"))
    # Within one month carl still holds it.
    assert '<td class="number">2</td>' in client.get(_url(course) + "?months=1").text

    sent = client.post(_url(course), data={"months": "6"}, follow_redirects=True)
    assert "4 invitasjoner er sendt." in sent.text
    assert _invited(course) == {"anna", "carl", "erik", "nils"}
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "course.invited_needing"))
    assert (event.actor_id, event.details["people"], event.details["months"]) == (
        organiser.id, 4, 6)

    again = client.post(_url(course), data={"months": "6"})
    assert again.status_code == 400
    assert "Det er ingen flere å invitere" in again.text
    assert db.session.query(CourseInvitation).count() == 4


def test_the_invitation_tells_about_the_course(client, login, kongsberg, notodden, world):
    first_aid, people = world
    course = granting(kongsberg, first_aid, title="Førstehjelp grunnkurs")
    notodden.language = "nn"
    db.session.commit()
    login(member(kongsberg, Role.ORGANISER))
    client.post(_url(course), data={"months": "6"})
    [message] = mail_to("anna@example.org")
    assert message.subject == "Et kurs for deg: Førstehjelp grunnkurs"
    assert "Hei Anna," in message.body_text and "- Førstehjelp\n" in message.body_text
    assert f"https://kurs.example.org/courses/{course.id}" in message.body_text
    [nynorsk] = mail_to("nils@example.org")
    assert nynorsk.subject == "Eit kurs for deg: Førstehjelp grunnkurs"
    # Registered since it was queued: the invitation is not sent.
    register(course, people["carl"])
    assert mail_to("carl@example.org") == []


def test_the_invitation_is_not_sent_to_whom_the_course_is_now_hidden_or_disabled(
        client, login, kongsberg, world):
    """Checked as it is sent: the course made internal after inviting, an account
    disabled meanwhile."""
    first_aid, people = world
    course = granting(kongsberg, first_aid, visibility=Visibility.REGION)
    login(member(kongsberg, Role.ORGANISER))
    client.post(_url(course), data={"months": "6"})
    assert _invited(course) == {"anna", "carl", "dora", "erik", "nils"}
    course.visibility = Visibility.INTERNAL
    people["erik"].is_enabled = False
    db.session.commit()
    assert mail_to("nils@example.org") == []  # Notodden's: the course is Kongsberg's now
    assert mail_to("erik@example.org") == []
    assert len(mail_to("anna@example.org")) == len(mail_to("carl@example.org")) == 1


def test_an_internal_course_invites_the_hosts_people_only(client, login, kongsberg, world):
    first_aid, _ = world
    course = granting(kongsberg, first_aid, visibility=Visibility.INTERNAL)
    login(member(kongsberg, Role.ORGANISER))
    assert "Notodden kommune" not in client.get(_url(course)).text
    client.post(_url(course), data={"months": "6"})
    assert _invited(course) == {"anna", "carl", "dora", "erik"}


def test_only_the_hosts_organisers_may_invite(app, client, login, kongsberg, notodden,
                                              world):
    first_aid, _ = world
    course = granting(kongsberg, first_aid)
    login(member(notodden, Role.ORGANISER))
    assert client.get(_url(course)).status_code == 404
    assert client.post(_url(course), data={"months": "6"}).status_code == 404
    assert client.get(_url(course, "notodden")).status_code == 404  # not Notodden's course
    employee = app.test_client()
    login(member(kongsberg), test_client=employee)
    assert employee.get(_url(course)).status_code == 403
    assert employee.post(_url(course), data={"months": "6"}).status_code == 403
    assert db.session.query(CourseInvitation).count() == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"state": CourseState.DRAFT}, "Bare et publisert kurs kan tilbys"),
    ({"sessions": [in_days(-1)]}, "Kurset har startet."),
    ({"grants": False}, "Kurset gir ingen kompetanse"),
])
def test_a_course_that_cannot_be_offered_says_why(client, login, kongsberg, world, change,
                                                  message):
    first_aid, _ = world
    grants = (first_aid,) if change.get("grants", True) else ()
    course = granting(kongsberg, *grants, **{k: v for k, v in change.items() if k != "grants"})
    login(member(kongsberg, Role.ORGANISER))
    page = client.get(_url(course))
    assert page.status_code == 200 and message in page.text
    assert "Send invitasjonen" not in page.text
    refused = client.post(_url(course), data={"months": "6"})
    assert refused.status_code == 400 and message in refused.text
    assert db.session.query(CourseInvitation).count() == 0
