"""Small assertions and look-ups shared by the tests."""

from __future__ import annotations

import re

from sqlalchemy import select

from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage
from frikomport.notifications.rendering import render_or_drop
from frikomport.tenancy.models import Membership

LINK = re.compile(r"https://kurs\.example\.org/\S+")


def outbox(to: str | None = None) -> list[OutboxMessage]:
    """The queued messages, written as the sender would write them (deferred ones are
    rendered first, and dropped if what they were about is gone)."""
    write_deferred()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query))


def write_deferred() -> None:
    """Render every deferred message now, as the sender does before delivering it."""
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.renderer.is_not(None))).all():
        render_or_drop(db.session, message)
    db.session.commit()


def link_in(message: OutboxMessage, containing: str = "") -> str:
    """The path of the one portal link in an e-mail (that contains ``containing``)."""
    found = [link for link in LINK.findall(message.body_text) if containing in link]
    assert len(found) == 1, message.body_text
    return found[0].removeprefix("https://kurs.example.org")


def roles_of(organisation) -> dict:
    """E-mail address → role of everyone in the organisation."""
    return {m.user.email: m.role for m in db.session.scalars(
        select(Membership).where(Membership.organisation_id == organisation.id))}


def states(course) -> list[tuple[str, object]]:
    """(e-mail, state) of every registration for the course, oldest first, freshly read."""
    from frikomport.registrations.models import Registration

    db.session.expire_all()
    rows = db.session.scalars(select(Registration).where(Registration.course_id == course.id)
                              .order_by(Registration.id))
    return [(r.email, r.state) for r in rows]
