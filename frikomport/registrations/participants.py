"""The participants page of a course at scale: one page of rows, a search, state counts,
the recent history and bulk actions.

A course can have a thousand registrations. The page therefore never loads them all:
it counts them per state with one GROUP BY (which also gives the number of pages), reads
one page of rows, and joins only what it shows (the employer's name, never the user).
Bulk actions lock the course once and apply the single-row rules to every row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased, contains_eager, raiseload

from frikomport.accounts.models import User
from frikomport.courses.locking import lock_course
from frikomport.courses.models import Course
from frikomport.db import casefolded
from frikomport.errors import DomainError, NotFoundError
from frikomport.permissions import Permission, ensure
from frikomport.registrations import services
from frikomport.registrations.models import (
    SEATED_STATES,
    Registration,
    RegistrationEvent,
    RegistrationState,
)
from frikomport.tenancy.models import Organisation

State = RegistrationState
PER_PAGE = 50
MAX_PAGE = 1000  # 50,000 rows: more than any course; a larger number shows the last page
HISTORY_ROWS = 50
MAX_SEARCH = 200
MAX_SELECTED = 500  # ticked rows in one request (a page has 50)

# The order of the list: what needs the organiser first, what is over last.
DISPLAY_ORDER = (State.PENDING, State.CONFIRMED, State.ATTENDED, State.NO_SHOW,
                 State.WAITLISTED, State.CANCELLED, State.REJECTED)
# Filters offered besides the single states: everyone, and everyone holding a seat.
ALL, SEATED = "all", "seated"
GROUPS = {ALL: tuple(DISPLAY_ORDER), SEATED: SEATED_STATES}


@dataclass(frozen=True)
class ParticipantQuery:
    """What the organiser asked to see: a search text, a state filter and a page."""

    text: str = ""
    state: str = ALL
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def states(self) -> tuple[State, ...]:
        return GROUPS.get(self.state) or (State(self.state),)

    @staticmethod
    def filter_names() -> list[str]:
        return [ALL, SEATED, *(state.value for state in DISPLAY_ORDER)]


@dataclass
class ParticipantPage:
    """One page of the list, with the counts per state of everything matching the text."""

    rows: list[Registration]
    counts: dict[str, int]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1


@dataclass
class BulkOutcome:
    """How many registrations changed, and which were refused (name, the rule's message)."""

    changed: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)


# Reading ---------------------------------------------------------------------------------

_Employer = aliased(Organisation, name="employer")


def _matching(statement, course: Course, text: str):
    """``statement`` (on registrations) narrowed to the course and to those whose name,
    e-mail or employer contains ``text``. The employer organisation is joined: the list
    shows its name, and the search reads it."""
    statement = (statement.outerjoin(Registration.employer.of_type(_Employer))
                 .where(Registration.course_id == course.id))
    needle = text.strip().lower()[:MAX_SEARCH]
    if needle:
        label = func.coalesce(_Employer.name, Registration.employer_name)
        statement = statement.where(
            casefolded(Registration.name).contains(needle, autoescape=True)
            | casefolded(Registration.email).contains(needle, autoescape=True)
            | casefolded(label).contains(needle, autoescape=True))
    return statement


def _display_order():
    rank = case({state.value: index for index, state in enumerate(DISPLAY_ORDER)},
                value=Registration.state)
    return (rank, Registration.queued_at.asc().nulls_first(), Registration.created_at,
            Registration.id)


def listing(course: Course, states=None, text: str = ""):
    """The statement for the course's registrations (in the given states, else all;
    matching the text) in the list's order, with the employer's name loaded and nothing
    else joined."""
    statement = _matching(select(Registration), course, text)
    if states is not None:
        statement = statement.where(Registration.state.in_(states))
    return (statement.options(contains_eager(Registration.employer.of_type(_Employer)),
                              raiseload(Registration.user))
            .order_by(*_display_order()))


def state_counts(session: Session, course: Course, text: str = "") -> dict[str, int]:
    """Registrations per state (and per filter group) matching the text: one GROUP BY."""
    per_state = dict(session.execute(_matching(
        select(Registration.state, func.count(Registration.id)), course, text)
        .group_by(Registration.state)).all())
    counts = {state.value: per_state.get(state, 0) for state in DISPLAY_ORDER}
    for name, states in GROUPS.items():
        counts[name] = sum(counts[state.value] for state in states)
    return counts


def participant_page(session: Session, actor, course: Course,
                     query: ParticipantQuery) -> ParticipantPage:
    """The page asked for (the last one when it asks beyond the end) and the counts."""
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    counts = state_counts(session, course, query.text)
    total = counts[query.state]
    page = min(query.page, max(1, math.ceil(total / query.per_page)))
    rows = list(session.scalars(
        listing(course, query.states, query.text)
        .limit(query.per_page).offset((page - 1) * query.per_page)))
    return ParticipantPage(rows=rows, counts=counts, page=page, per_page=query.per_page,
                           total=total)


def recent_history(session: Session, actor, course: Course, limit: int = HISTORY_ROWS):
    """The latest changes, newest first, and how many there are in all.

    Each change is a row of what the page shows (created_at, from_state, to_state, note,
    participant, actor: the names only), so no user or registration objects are loaded.
    """
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    total = session.scalar(
        select(func.count(RegistrationEvent.id)).join(RegistrationEvent.registration)
        .where(Registration.course_id == course.id))
    events = session.execute(
        select(RegistrationEvent.created_at, RegistrationEvent.from_state,
               RegistrationEvent.to_state, RegistrationEvent.note,
               Registration.name.label("participant"), User.name.label("actor"))
        .join(RegistrationEvent.registration)
        .outerjoin(User, User.id == RegistrationEvent.actor_id)
        .where(Registration.course_id == course.id)
        .order_by(RegistrationEvent.created_at.desc(), RegistrationEvent.id.desc())
        .limit(limit)).all()
    return events, total


# Bulk actions ----------------------------------------------------------------------------

def mark_attended(session, actor, organisation, course_id, registration_id):
    return services.mark_attendance(session, actor, organisation, course_id,
                                    registration_id, attended=True)


def mark_no_show(session, actor, organisation, course_id, registration_id):
    return services.mark_attendance(session, actor, organisation, course_id,
                                    registration_id, attended=False)


# The bulk actions apply the single-row rules to rows of a course the caller has locked.
BULK_ACTIONS = {
    "attended": partial(services.record_attendance, attended=True),
    "no-show": partial(services.record_attendance, attended=False),
    "promote": services.promote_locked,
}


def _in_course(session: Session, organisation: Organisation, course_id: int,
               registration_ids, states=None) -> list[Registration]:
    """The given registrations that belong to the course, in list order (so people move
    up from the waiting list in their turn), freshly read; other ids are ignored."""
    statement = select(Registration).where(
        Registration.organisation_id == organisation.id, Registration.course_id == course_id)
    if registration_ids is not None:
        statement = statement.where(Registration.id.in_(list(registration_ids)))
    if states is not None:
        statement = statement.where(Registration.state.in_(states))
    return list(session.scalars(statement.order_by(*_display_order())
                                .execution_options(populate_existing=True)))


def bulk_action(session: Session, actor, organisation: Organisation, course_id: int,
                registration_ids, action: str, states=None) -> BulkOutcome:
    """Apply one action to several registrations in one transaction (the caller commits).

    The course is locked once and the rows read once after that, so 700 people cost a
    handful of queries and one INSERT batch for their history, not three queries each.
    Each row still goes through the single-row rule; a row the rule refuses is reported
    and left as it was (the rules check before they change anything), and the others
    still change.
    """
    ensure(actor, Permission.MANAGE_COURSES, organisation)
    apply = BULK_ACTIONS[action]
    if lock_course(session, course_id).organisation_id != organisation.id:
        raise NotFoundError()
    outcome = BulkOutcome()
    for registration in _in_course(session, organisation, course_id, registration_ids,
                                   states):
        try:
            apply(session, actor, registration)
        except DomainError as refusal:
            outcome.refused.append((registration.name, refusal.message))
        else:
            outcome.changed += 1
    return outcome


def mark_all_attended(session: Session, actor, organisation: Organisation,
                      course_id: int) -> BulkOutcome:
    """After the course: everyone still simply confirmed is marked as attended (those
    already marked either way are left alone)."""
    return bulk_action(session, actor, organisation, course_id, None, "attended",
                       states=(State.CONFIRMED,))
