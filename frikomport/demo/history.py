"""Demo history (about two years): past courses with registrations, attendance, cancellations,
waiting lists and fees, so the statistics and the invoice basis show something real.

The registration services work in the present (they take "now" from the clock, send
e-mails and lock courses), so the past is simulated here with the engine's own rules and
written as rows, like ``bench/pages_seed.py`` does: a seat while there is one, else the
waiting list (in order, promoted when a seat is given up), the fee fixed by
:func:`frikomport.billing.fees.fix_fee` when a seat is given, a self-cancellation after
the free cancellation date charged (:func:`~frikomport.billing.fees.late_cancellation`),
counters equal to the registrations, a history event for every change, and courses
ended as ``finished`` (as housekeeping leaves them). No e-mail is queued for the past,
and finished courses are not in the search index, so no search job is needed.

Deterministic (a seeded ``random.Random`` and people in address order) for a given day,
and written once: a second run finds the history and adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.billing import fees
from frikomport.courses.models import (
    Category,
    Course,
    CourseSession,
    CourseState,
    Location,
    ServiceArea,
    Visibility,
)
from frikomport.demo.bulk import insert_rows
from frikomport.demo.catalogue import (
    COURSES_PER_MUNICIPALITY,
    TEMPLATES,
    PlannedCourse,
    plan_courses,
)
from frikomport.demo.courses import CATEGORIES, SERVICE_AREAS
from frikomport.demo.invoicing import invoice_history
from frikomport.demo.people import FIRST_NAMES, LAST_NAMES, STAFF, email_for
from frikomport.registrations import notes
from frikomport.registrations.models import (
    SEATED_STATES,
    Registration,
    RegistrationEvent,
    RegistrationState,
)
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.timeutil import to_local

State = RegistrationState
SEED = 2026  # any constant: the same history for the same day
CANCEL_RATE = 0.14         # of registrations, before the course starts
BY_ORGANISER = 0.2         # of cancellations: the organiser cancelled (never charged)
NO_SHOW_RATE = 0.08
GUEST_RATE = 0.07          # of registrations for courses open to guests
UNMARKED_DAYS = 3          # attendance of courses that ended this recently is not marked yet
REMINDER_BEFORE = timedelta(days=2)  # REMINDER_DAYS
GUEST_EMPLOYERS = [("Vestre Viken HF", "vestreviken"), ("Sykehuset Telemark HF", "sthf"),
                   ("Buskerud fylkeskommune", "bfk"), ("Telemark fylkeskommune", "tfk"),
                   ("Numedal Regnskap AS", "numedalregnskap"),
                   ("Kongsberg kirkelige fellesråd", "kirken")]
GUESTS = 40
REFERENCE_RATE = 0.4       # of places on paid courses that carry the person's own reference


@dataclass(frozen=True)
class Person:
    user_id: int | None  # None: a guest
    name: str
    email: str
    employer_id: int | None
    employer_name: str


@dataclass(eq=False)
class Seat:
    """A registration being simulated; reads like a Registration to billing.fees."""

    course: PlannedCourse
    person: Person
    created_at: datetime
    state: State | None = None
    fee_ore: int | None = None
    fee_kind: str | None = None
    charged_cancellation: bool = False
    queued_at: datetime | None = None
    seated_at: datetime | None = None
    email_confirmed_at: datetime | None = None
    own_reference: str = ""
    reminded: bool = False
    events: list[tuple] = field(default_factory=list)
    user = None  # fees.fix_fee looks at the account of an unflushed registration

    @property
    def user_id(self) -> int | None:
        return self.person.user_id

    @property
    def employer_organisation_id(self) -> int | None:
        return self.person.employer_id


def history_exists(session: Session) -> bool:
    titles = [template.title for template in TEMPLATES]
    return session.scalar(select(Course.id).where(Course.title.in_(titles)).limit(1)) is not None


def seed_history(session: Session, now: datetime) -> list[PlannedCourse]:
    """Plan, simulate, write and invoice the past year once; return the courses written."""
    if history_exists(session):
        return []
    rng = random.Random(SEED)
    today = to_local(now).date()
    organisations = list(session.scalars(select(Organisation).where(
        Organisation.slug.in_(COURSES_PER_MUNICIPALITY)).order_by(Organisation.slug)))
    organisers = {o.id: _organiser(session, o) for o in organisations}
    staff, guests = _staff(session, organisations), _guests(rng)
    courses = []
    for organisation in organisations:
        for course in plan_courses(rng, organisation.id, organisers[organisation.id].id,
                                   organisation.slug, today):
            # Its own generator: what the day changes in one course (whether attendance
            # is marked yet) leaves the others as they were.
            own = random.Random(rng.getrandbits(64))
            _simulate(own, course, _applicants(own, course, organisation.slug, staff, guests),
                      now)
            courses.append(course)
    _write(session, courses, _vocabulary(session, organisations), organisers)
    invoice_history(session, organisations, organisers,
                    min(course.days[0] for course in courses), now)
    return courses


# People ------------------------------------------------------------------------------------

def _organiser(session: Session, organisation: Organisation) -> User:
    return session.scalars(select(User).join(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == Role.ORGANISER)
        .order_by(Membership.id)).first()


def _staff(session: Session, organisations: list[Organisation]) -> dict[int, list[Person]]:
    """The organisations' employees (their home organisation is their employer)."""
    rows = session.execute(
        select(User.id, User.name, User.email, Organisation.id, Organisation.name)
        .join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == User.home_organisation_id)
        .where(Membership.organisation_id == User.home_organisation_id,
               Membership.role == Role.EMPLOYEE, User.is_enabled.is_(True),
               Organisation.id.in_([o.id for o in organisations]))
        .order_by(User.email))
    staff: dict[int, list[Person]] = {}
    for user_id, name, email, org_id, org_name in rows:
        staff.setdefault(org_id, []).append(Person(user_id, name, email, org_id, org_name))
    return staff


def _guests(rng: random.Random) -> list[Person]:
    guests, taken = [], set()
    while len(guests) < GUESTS:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        employer, domain = rng.choice(GUEST_EMPLOYERS)
        email = email_for(first, last, domain, "example.org")
        if email not in taken:
            taken.add(email)
            guests.append(Person(None, f"{first} {last}", email, None, employer))
    return guests


def _applicants(rng: random.Random, course: PlannedCourse, slug: str,
                staff: dict[int, list[Person]], guests: list[Person]) -> list[Person]:
    """Who registers: mostly the host's own employees, some from the other municipalities
    (unless the course is internal), a few guests where the course takes them."""
    demand = max(4, round(course.capacity * rng.uniform(0.55, 1.45)))
    own = staff.get(course.organisation_id, [])
    region = ([] if course.visibility == Visibility.INTERNAL else
              [p for org_id, people in staff.items() if org_id != course.organisation_id
               for p in people])
    host, others = rng.sample(own, len(own)), rng.sample(region, len(region))
    visitors = rng.sample(guests, len(guests)) if course.allow_guests else []
    host_share = 0.7 if STAFF[slug] >= 30 else 0.55
    chosen = []
    for _ in range(demand):
        draw = rng.random()
        pool = (visitors if draw >= 1 - GUEST_RATE and visitors
                else host if draw < host_share else others)
        pool = pool or host or others
        if not pool:
            break
        chosen.append(pool.pop())
    return chosen


# Simulation --------------------------------------------------------------------------------

class _Simulation:
    """One course's seats and waiting list, changed by the engine's rules."""

    def __init__(self, course: PlannedCourse) -> None:
        self.course = course
        self.seated = 0
        self.waiting: list[Seat] = []

    def transition(self, seat: Seat, new: State, at: datetime, actor_id: int | None,
                   note: str = "") -> None:
        old = seat.state
        self.seated += (new in SEATED_STATES) - (old in SEATED_STATES)
        if old == State.WAITLISTED:
            self.waiting.remove(seat)
        if new == State.WAITLISTED:
            seat.queued_at = seat.queued_at or at
            self.waiting.append(seat)
        if new in SEATED_STATES:
            fees.fix_fee(seat)
            seat.seated_at = seat.seated_at or at
        seat.state = new
        seat.events.append((at, actor_id, old.value if old else None, new.value, note))

    def place(self, seat: Seat, at: datetime, actor_id: int | None, note: str = "") -> None:
        new = State.CONFIRMED if self.seated < self.course.capacity else State.WAITLISTED
        self.transition(seat, new, at, actor_id, note)

    def cancel(self, seat: Seat, at: datetime, by_organiser: bool) -> None:
        if seat.state not in (State.CONFIRMED, State.WAITLISTED):
            return
        held_seat = seat.state == State.CONFIRMED
        seat.charged_cancellation = not by_organiser and fees.late_cancellation(seat, at)
        if by_organiser:
            actor, note = self.course.organiser_id, notes.CANCELLED_BY_ORGANISER
        elif seat.user_id is None:
            actor, note = None, notes.CANCELLED_BY_LINK
        else:
            actor, note = seat.user_id, notes.CANCELLED_BY_PARTICIPANT
        self.transition(seat, State.CANCELLED, at, actor, note)
        while held_seat and self.waiting and self.seated < self.course.capacity:
            self.transition(self.waiting[0], State.CONFIRMED, at, actor, notes.PROMOTED)


def _between(rng: random.Random, start: datetime, end: datetime, skew: float = 1.0) -> datetime:
    moment = start + (end - start) * (rng.random() ** skew)
    return moment.replace(second=0, microsecond=0)


def _simulate(rng: random.Random, course: PlannedCourse, applicants: list[Person],
              now: datetime) -> None:
    """Registrations in time order, cancellations among them, then attendance."""
    simulation = _Simulation(course)
    closes = course.starts_at - timedelta(days=1)
    actions = []
    for number, person in enumerate(applicants):
        seat = Seat(course, person, _between(rng, course.published_at, closes, skew=1.6))
        if course.fee_host_ore and rng.random() < REFERENCE_RATE:
            seat.own_reference = f"Ansvar {rng.randint(1000, 9999)}"
        course.registrations.append(seat)
        placed = seat.created_at
        if person.user_id is None:  # a guest confirms the address first
            actions.append((placed, number, "pending", seat))
            placed += timedelta(minutes=rng.randint(2, 240))
        actions.append((placed, number, "place", seat))
        if rng.random() < CANCEL_RATE:
            cancel_at = _between(rng, placed + timedelta(minutes=5), course.starts_at)
            actions.append((cancel_at, number, "cancel", seat))
    for at, _number, action, seat in sorted(actions, key=lambda item: item[:2]):
        _act(rng, simulation, action, seat, at)
    _attendance(rng, simulation, now)
    _reminders(course)


def _act(rng: random.Random, simulation: _Simulation, action: str, seat: Seat,
         at: datetime) -> None:
    if action == "pending":
        simulation.transition(seat, State.PENDING, at, None, notes.AWAITING_EMAIL_CONFIRMATION)
    elif action == "place" and seat.user_id is None:
        seat.email_confirmed_at = at
        simulation.place(seat, at, None, notes.EMAIL_CONFIRMED)
    elif action == "place":
        simulation.place(seat, at, seat.user_id)
    else:
        simulation.cancel(seat, at, by_organiser=rng.random() < BY_ORGANISER)


def _attendance(rng: random.Random, simulation: _Simulation, now: datetime) -> None:
    """The organiser marks who came, a little after the course (not yet for the most
    recent courses: their participants are still simply confirmed)."""
    course = simulation.course
    if course.ends_at > now - timedelta(days=UNMARKED_DAYS):
        return
    for seat in course.registrations:
        if seat.state == State.CONFIRMED:
            at = min(course.ends_at + timedelta(minutes=rng.randint(20, 2880)), now)
            came = rng.random() >= NO_SHOW_RATE
            simulation.transition(seat, State.ATTENDED if came else State.NO_SHOW,
                                  at.replace(second=0, microsecond=0), course.organiser_id)


def _reminders(course: PlannedCourse) -> None:
    """Everyone who had a seat when the reminders went out got one."""
    reminded_at = course.starts_at - REMINDER_BEFORE
    for seat in course.registrations:
        seat.reminded = (seat.state in SEATED_STATES and seat.seated_at <= reminded_at)


# Writing -----------------------------------------------------------------------------------

def _vocabulary(session: Session, organisations: list[Organisation]) -> dict[int, tuple]:
    """Per organisation: category ids and service area ids (in the demo's order), and the
    location."""
    vocabulary = {}
    for organisation in organisations:
        ids = {model: dict(session.execute(select(model.name, model.id).where(
            model.organisation_id == organisation.id)).all())
            for model in (Category, ServiceArea)}
        location = session.scalar(select(Location.id).where(
            Location.organisation_id == organisation.id).order_by(Location.id).limit(1))
        vocabulary[organisation.id] = ([ids[Category].get(name) for name in CATEGORIES],
                                       [ids[ServiceArea].get(name) for name in SERVICE_AREAS],
                                       location)
    return vocabulary


def _write(session: Session, courses: list[PlannedCourse], vocabulary: dict[int, tuple],
           organisers: dict[int, User]) -> None:
    session.flush()
    courses = sorted(courses, key=lambda c: (c.published_at, c.organisation_id))
    rows = [_course_row(c, vocabulary[c.organisation_id], organisers[c.organisation_id])
            for c in courses]
    ids = insert_rows(session, Course, rows)
    for course, course_id in zip(courses, ids, strict=True):
        course.id = course_id
    insert_rows(session, CourseSession, [
        {"organisation_id": c.organisation_id, "course_id": c.id, "starts_at": start,
         "ends_at": end} for c in courses for start, end in c.sessions])
    seats = sorted((s for c in courses for s in c.registrations),
                   key=lambda s: (s.created_at, s.course.id, s.person.email))
    ids = insert_rows(session, Registration, [_registration_row(seat) for seat in seats])
    events = sorted(((event, seat, registration_id)
                     for seat, registration_id in zip(seats, ids, strict=True)
                     for event in seat.events), key=lambda item: (item[0][0], item[2]))
    insert_rows(session, RegistrationEvent, [
        {"organisation_id": seat.course.organisation_id, "registration_id": registration_id,
         "actor_id": actor_id, "from_state": old, "to_state": new, "note": note,
         "created_at": at}
        for (at, actor_id, old, new, note), seat, registration_id in events])


def _course_row(course: PlannedCourse, vocabulary: tuple, organiser: User) -> dict:
    template, (categories, areas, location_id) = course.template, vocabulary
    seats = course.registrations
    return {
        "organisation_id": course.organisation_id, "title": template.title,
        "content_language": "nb", "summary": template.summary,
        "description": f"{template.summary}\n\nKursholder: {template.instructor}.",
        "category_id": categories[template.category],
        "service_area_id": areas[template.service_area], "location_id": location_id,
        "target_group": f"Ansatte i {SERVICE_AREAS[template.service_area].lower()}",
        "instructor": template.instructor, "contact_name": organiser.name,
        "contact_email": organiser.email, "contact_phone": "",
        "fee_host_ore": course.fee_host_ore, "fee_region_ore": course.fee_region_ore,
        "fee_guest_ore": course.fee_guest_ore,
        "free_cancellation_until": course.free_cancellation_until,
        "charge_no_shows": course.charge_no_shows, "capacity": course.capacity,
        "reserved_seats": 0, "reserved_until": None, "registration_opens_at": None,
        "registration_closes_at": None, "visibility": course.visibility,
        "state": CourseState.FINISHED, "cancel_reason": "", "starts_at": course.starts_at,
        "ends_at": course.ends_at,
        "confirmed_count": sum(s.state in SEATED_STATES for s in seats),
        "waitlist_count": sum(s.state == State.WAITLISTED for s in seats),
        "allow_guests": course.allow_guests, "requires_approval": False,
        "ask_for_comment": True, "cancellation_deadline": None,
        "created_by_id": course.organiser_id,
        "created_at": course.published_at - timedelta(days=3),
        "updated_at": course.ends_at + timedelta(minutes=10),
        "published_at": course.published_at,
    }


def _registration_row(seat: Seat) -> dict:
    person = seat.person
    return {
        "organisation_id": seat.course.organisation_id, "course_id": seat.course.id,
        "user_id": person.user_id, "name": person.name, "email": person.email, "phone": "",
        "employer_organisation_id": person.employer_id, "employer_name": person.employer_name,
        "comment": "", "own_reference": seat.own_reference, "fee_ore": seat.fee_ore,
        "fee_kind": seat.fee_kind, "charged_cancellation": seat.charged_cancellation,
        "state": seat.state, "email_confirmed_at": seat.email_confirmed_at,
        "queued_at": seat.queued_at,
        "reminder_sent_at": seat.course.starts_at - REMINDER_BEFORE if seat.reminded else None,
        "created_at": seat.created_at, "updated_at": seat.events[-1][0],
    }

