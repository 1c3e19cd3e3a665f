"""Inviting the people who need what a course grants (an e-mail each, through the outbox).

When a published course that has not started grants competences, its host's organisers
may invite everyone who needs one of them within N months (see
:mod:`frikomport.competence.demand`) and may see the course: for a public or region
course anyone in any organisation, for an internal one only the host's members (the
rule of :func:`frikomport.permissions.can_view_course`). Nobody already registered, and
nobody invited to the course before, is invited. The e-mail only tells about the
course: the person registers themselves if they want to (opt-in).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.audit.services import record
from frikomport.competence.demand import months_in_range, needing
from frikomport.competence.models import Competence, CourseInvitation
from frikomport.competence.records import add_months, today
from frikomport.courses.models import Course, CourseState, Visibility
from frikomport.db import utcnow
from frikomport.errors import DomainError
from frikomport.i18n import recipient_locale
from frikomport.notifications.rendering import Rendered, queue_deferred, renderer
from frikomport.notifications.services import render_email
from frikomport.permissions import Permission, can_view_course, ensure
from frikomport.registrations.models import ENDED_STATES, Registration
from frikomport.tenancy.models import Membership, Organisation
from frikomport.tenancy.scoping import get_scoped
from frikomport.urls import external_url


@dataclass(frozen=True)
class Preview:
    course: Course
    competences: list[Competence]  # what the course grants
    by_organisation: list[tuple[Organisation, int]]  # each person once, by name
    problem: str | None  # why nobody can be invited to this course now, if so

    @property
    def total(self) -> int:
        return sum(count for _, count in self.by_organisation)


def course_for_invitations(session: Session, actor, organisation: Organisation,
                           course_id: int) -> Course:
    """The host's course, for one of its organisers (others: 404/403)."""
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    return get_scoped(session, Course, organisation, course_id)


def _problem(course: Course, now: datetime) -> str | None:
    if course.state != CourseState.PUBLISHED:
        return _("Only a published course can be offered to those who need it.")
    if course.starts_at is None or course.starts_at <= now:
        return _("The course has started; invitations are for courses still to come.")
    if not course.competence_grants:
        return _("The course grants no competence, so nobody needs it.")
    return None


def _candidates(session: Session, course: Course, months: int, now: datetime
                ) -> dict[int, tuple[int, list[int]]]:
    """``user_id → (organisation_id, competence_ids)`` of those to invite: each person
    under the first (lowest id) organisation where they need one of the competences."""
    competence_ids = [grant.competence_id for grant in course.competence_grants]
    on = today(now)
    rows = needing(add_months(on, months), on, competence_ids).subquery("needing")
    statement = (
        select(rows.c.user_id, rows.c.organisation_id, rows.c.competence_id)
        .where(~exists().where(Registration.course_id == course.id,
                               Registration.user_id == rows.c.user_id,
                               Registration.state.not_in(ENDED_STATES)),
               ~exists().where(CourseInvitation.course_id == course.id,
                               CourseInvitation.user_id == rows.c.user_id))
        .order_by(rows.c.user_id, rows.c.organisation_id, rows.c.competence_id))
    if course.visibility == Visibility.INTERNAL:
        statement = statement.where(exists().where(
            Membership.user_id == rows.c.user_id,
            Membership.organisation_id == course.organisation_id))
    found: dict[int, tuple[int, list[int]]] = {}
    for user_id, organisation_id, competence_id in session.execute(statement):
        needed = found.setdefault(user_id, (organisation_id, []))[1]
        if competence_id not in needed:
            needed.append(competence_id)
    return found


def preview(session: Session, actor, organisation: Organisation, course_id: int,
            months: int, now: datetime | None = None) -> Preview:
    """How many people an invitation would reach, by organisation (counts, no names)."""
    course = course_for_invitations(session, actor, organisation, course_id)
    now = now or utcnow()
    competences = [grant.competence for grant in course.competence_grants]
    problem = _problem(course, now)
    if problem:
        return Preview(course, competences, [], problem)
    counted = Counter(organisation_id for organisation_id, _ in
                      _candidates(session, course, months_in_range(months), now).values())
    names = {o.id: o for o in session.scalars(
        select(Organisation).where(Organisation.id.in_(list(counted))))}
    by_organisation = sorted(((names[i], n) for i, n in counted.items()),
                             key=lambda pair: pair[0].name.casefold())
    return Preview(course, competences, by_organisation, None)


def invite_needing(session: Session, actor, organisation: Organisation, course_id: int,
                   months: int, now: datetime | None = None) -> int:
    """Invite everyone who needs what the course grants within ``months``; answer how
    many. The caller commits (two organisers at once: the unique course × person row
    makes the later one retry, and then find nobody left)."""
    course = course_for_invitations(session, actor, organisation, course_id)
    now = now or utcnow()
    months = months_in_range(months)
    problem = _problem(course, now)
    if problem:
        raise DomainError(problem)
    candidates = _candidates(session, course, months, now)
    if not candidates:
        raise DomainError(_("Nobody who needs what the course grants is left to invite."))
    invitations = [CourseInvitation(organisation_id=course.organisation_id,
                                    course_id=course.id, user_id=user_id,
                                    sent_by_id=actor.id, sent_at=now)
                   for user_id in candidates]
    session.add_all(invitations)
    session.flush()
    emails = {user.id: user.email for user in session.scalars(
        select(User).where(User.id.in_(list(candidates))))}
    for invitation in invitations:
        queue_deferred(session, emails[invitation.user_id], "competence_invitation",
                       {"invitation": invitation.id,
                        "competences": candidates[invitation.user_id][1]})
    record(session, actor, "course.invited_needing", course, organisation,
           title=course.title, people=len(invitations), months=months)
    return len(invitations)


@renderer("competence_invitation")
def _write(session: Session, arguments: dict) -> Rendered | None:
    """The invitation, as the course is when it is sent; none if it was cancelled, has
    started or is hidden from the person meanwhile (an organiser may make a region course
    internal after inviting), or the person's account is disabled or they have registered
    since."""
    invitation = session.get(CourseInvitation, arguments["invitation"])
    if invitation is None:
        return None
    course, user = session.get(Course, invitation.course_id), session.get(User,
                                                                          invitation.user_id)
    if user is None or not _still_for(session, course, user):
        return None
    competences = list(session.scalars(select(Competence).where(
        Competence.id.in_(arguments["competences"])).order_by(Competence.name)))
    subject, body = render_email(
        "competence_invitation", recipient_locale(user, host=course.organisation),
        user=user, course=course, competences=competences,
        course_url=external_url("courses.detail", course_id=course.id))
    return Rendered(subject, body)


def _still_for(session: Session, course: Course, user: User) -> bool:
    """Is the invitation still worth sending to ``user`` now?"""
    return (user.is_enabled and _problem(course, utcnow()) is None
            and can_view_course(user, course)
            and not session.scalar(select(Registration.id).where(
                Registration.course_id == course.id, Registration.user_id == user.id,
                Registration.state.not_in(ENDED_STATES))))
