"""Reminders before a competence runs out, to the person and to their unit's leaders.

Everyone whose holding of a competence (the latest ``valid_until`` of their approved
records valid by today, :func:`frikomport.competence.records.latest`) runs out within a
threshold of ``COMPETENCE_REMINDER_DAYS`` (default 60 and 14 days) gets an e-mail listing
the upcoming courses in the region that renew it and that they may see. Every holding
that runs out is reminded, required or not: the person is the one who loses it. The
leaders of the person's unit get, once per run, one e-mail listing those of their people
reminded in that run of a competence the unit requires, with the courses that renew each
competence that the leader may see.

Each course comes with a link to its page, not a link that registers: registering is a
POST with a CSRF token (``registrations.views.register``), and a GET that registered
would let any link scanner or prefetcher sign people up. On the course page a logged-in
person registers with one click.

Each reminder is sent once per person, competence, expiry day and threshold (a
:class:`~frikomport.competence.models.ReminderSent` row written with the e-mail, in the
same transaction). Only the nearest threshold is sent: 10 days before expiry, a job that
was not running at 60 days sends the 14-day reminder and never the 60-day one. A renewal
gives a new expiry day, which is reminded afresh. A holding already expired is not
reminded. Safe to run from several processes at once (the insert skips rows another
run has written). What an e-mail says is worked out again when it is sent (see the
renderers), so a renewal, a move to another unit or a course made internal meanwhile
is respected.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.competence.demand import required, upcoming_courses
from frikomport.competence.models import Competence, ReminderSent
from frikomport.competence.records import as_date, holdings, latest, today
from frikomport.db import utcnow
from frikomport.i18n import recipient_locale
from frikomport.notifications.rendering import Rendered, queue_deferred, renderer
from frikomport.notifications.services import render_email
from frikomport.units.models import UnitLeader
from frikomport.urls import external_url

Key = tuple[int, int, date]  # user_id, competence_id, valid_until


def threshold_for(days_left: int, thresholds) -> int | None:
    """The nearest threshold a holding with ``days_left`` has reached (None: none yet)."""
    reached = [days for days in thresholds if days_left <= days]
    return min(reached) if reached else None


def _due(session: Session, on: date, thresholds) -> dict[Key, int]:
    """``(user, competence, valid_until) → threshold`` not reminded yet. Two queries."""
    holding = latest(on).subquery("held")
    last = on + timedelta(days=max(thresholds))
    rows = session.execute(
        select(holding.c.user_id, holding.c.competence_id, holding.c.until)
        .join(User, User.id == holding.c.user_id)
        .where(User.is_enabled, holding.c.until >= on, holding.c.until <= last))
    due = {}
    for user_id, competence_id, until in rows:
        until = as_date(until)
        days = threshold_for((until - on).days, thresholds)
        if days is not None:
            due[(user_id, competence_id, until)] = days
    sent = session.execute(select(ReminderSent.user_id, ReminderSent.competence_id,
                                  ReminderSent.valid_until, ReminderSent.days)
                           .where(ReminderSent.valid_until.between(on, last)))
    for user_id, competence_id, until, days in sent:
        if due.get((user_id, competence_id, until)) == days:
            del due[(user_id, competence_id, until)]
    return due


def _claim(session: Session, due: dict[Key, int], now: datetime) -> list[Key]:
    """Write the reminders' rows; answer those this run wrote (not another run)."""
    if not due:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"user_id": u, "competence_id": c, "valid_until": until, "days": days,
             "sent_at": now} for (u, c, until), days in due.items()]
    statement = (insert(ReminderSent).on_conflict_do_nothing(
        index_elements=["user_id", "competence_id", "valid_until", "days"])
        .returning(ReminderSent.user_id, ReminderSent.competence_id,
                   ReminderSent.valid_until))
    claimed = []
    for start in range(0, len(rows), 500):
        claimed += [(u, c, as_date(until)) for u, c, until
                    in session.execute(statement, rows[start:start + 500])]
    return claimed


def _leaders(session: Session, keys: list[Key], leader_id: int | None = None
             ) -> dict[int, list[Key]]:
    """``leader_id → reminders`` of their people of competences their units require (of
    one leader only, if given)."""
    wanted = set(keys)
    by_person = defaultdict(list)
    for key in keys:
        by_person[(key[0], key[1])].append(key)
    pairs = required({competence_id for _, competence_id, _ in keys}).subquery("required")
    statement = (
        select(UnitLeader.user_id, pairs.c.user_id, pairs.c.competence_id)
        .join(pairs, and_(UnitLeader.unit_id == pairs.c.unit_id,
                          UnitLeader.organisation_id == pairs.c.organisation_id))
        .join(User, User.id == UnitLeader.user_id)
        .where(User.is_enabled, UnitLeader.user_id != pairs.c.user_id)
        .distinct())
    if leader_id is not None:
        statement = statement.where(UnitLeader.user_id == leader_id)
    found: dict[int, list[Key]] = defaultdict(list)
    for leader, user_id, competence_id in session.execute(statement):
        for key in by_person.get((user_id, competence_id), ()):
            if key in wanted and key not in found[leader]:
                found[leader].append(key)
    return found


def send_expiry_reminders(session: Session, now: datetime | None = None,
                          thresholds=None) -> int:
    """Queue the reminders due now (see the module) and answer how many: one per person,
    competence and expiry day, and one per leader with their people. The caller commits."""
    now = now or utcnow()
    thresholds = tuple(thresholds or current_app.config["COMPETENCE_REMINDER_DAYS"])
    claimed = _claim(session, _due(session, today(now), thresholds), now)
    if not claimed:
        return 0
    leaders = _leaders(session, claimed)
    addresses = _emails(session, {user_id for user_id, _, _ in claimed} | set(leaders))
    for user_id, competence_id, until in claimed:
        queue_deferred(session, addresses[user_id], "competence_expiry",
                       {"user": user_id, "competence": competence_id,
                        "valid_until": until.isoformat()})
    for leader_id, keys in leaders.items():
        queue_deferred(session, addresses[leader_id], "competence_expiry_leader",
                       {"leader": leader_id,
                        "reminders": [[u, c, until.isoformat()] for u, c, until in keys]})
    return len(claimed)


def _emails(session: Session, user_ids: set[int]) -> dict[int, str]:
    ids, found = sorted(user_ids), {}
    for start in range(0, len(ids), 500):
        found.update(session.execute(select(User.id, User.email)
                                     .where(User.id.in_(ids[start:start + 500]))).all())
    return found


def _runs_out(latest_until: date | None, valid_until: date) -> bool:
    """Does a holding now held until ``latest_until`` (None: for good, or not at all)
    still run out by the reminded ``valid_until``? (Not if renewed meanwhile.)"""
    return latest_until is not None and latest_until <= valid_until


def _offers(session: Session, viewer: User, competence_ids) -> dict[int, list]:
    """``competence_id → [(course, link)]``: the upcoming courses that renew it that
    ``viewer`` may see now, each with its page (see the module on why not a link that
    registers)."""
    return {competence_id: [(course, external_url("courses.detail", course_id=course.id))
                            for course in courses]
            for competence_id, courses
            in upcoming_courses(session, viewer, competence_ids, utcnow()).items()}


@renderer("competence_expiry")
def _write_reminder(session: Session, arguments: dict) -> Rendered | None:
    """The person's reminder, with the courses they may see as it is sent; none if the
    person or competence is gone, or the holding has been renewed meanwhile."""
    user = session.get(User, arguments["user"])
    competence = session.get(Competence, arguments["competence"])
    valid_until = date.fromisoformat(arguments["valid_until"])
    if user is None or competence is None:
        return None
    held = holdings(session, [user.id], [competence.id]).get((user.id, competence.id))
    if not _runs_out(held, valid_until):
        return None
    subject, body = render_email("competence_expiry", recipient_locale(user), user=user,
                                 competence=competence, valid_until=valid_until,
                                 offers=_offers(session, user, [competence.id]).get(
                                     competence.id, []))
    return Rendered(subject, body)


def _still_due(session: Session, leader_id: int, keys: list[Key]) -> list[Key]:
    """Those of ``keys`` the leader should still hear of: the person is still in a unit
    they lead that requires the competence, and has not renewed it."""
    led = set(_leaders(session, keys, leader_id).get(leader_id, ()))
    held = holdings(session, {u for u, _, _ in keys}, {c for _, c, _ in keys})
    return [(u, c, until) for u, c, until in keys
            if (u, c, until) in led and _runs_out(held.get((u, c)), until)]


@renderer("competence_expiry_leader")
def _write_leader_copy(session: Session, arguments: dict) -> Rendered | None:
    """The leader's list of their people whose competence runs out, as things are when
    it is sent (see :func:`_still_due`; nothing left: no e-mail), with the courses that
    renew each competence that the leader may see."""
    leader = session.get(User, arguments["leader"])
    if leader is None or not leader.is_enabled:
        return None
    keys = _still_due(session, leader.id, [(u, c, date.fromisoformat(until))
                                           for u, c, until in arguments["reminders"]])
    if not keys:
        return None
    people = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_({u for u, _, _ in keys})))}
    competences = {c.id: c for c in session.scalars(select(Competence).where(
        Competence.id.in_({c for _, c, _ in keys})))}
    lines = sorted(((people[u], competences[c], until) for u, c, until in keys),
                   key=lambda line: (line[2], line[0].name.casefold()))
    offers = _offers(session, leader, competences)
    renewals = [(competence, offers.get(competence.id, [])) for competence in
                sorted(competences.values(), key=lambda c: c.name.casefold())]
    subject, body = render_email("competence_expiry_leader", recipient_locale(leader),
                                 leader=leader, lines=lines, renewals=renewals)
    return Rendered(subject, body)
