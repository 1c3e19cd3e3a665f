"""E-mails written by the sender, not by the request that queued them.

Registering for a popular course holds the course's row lock until the transaction
commits; rendering the confirmation (templates, signed links, a calendar file) inside
that lock made every other person in the rush wait for it. So a message can be queued
as a *deferred* one: a row with the address, the name of a renderer and the few
values it needs, written in the same transaction as the change (nothing is lost). The
sender renders it just before delivery.

A renderer is registered under a fixed name (the database names code only through this
table, never by import path) and answers ``None`` when what the message was about no
longer exists — a registration deleted under the retention rules or by its owner — and
then the message is dropped instead of sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from frikomport.inputs import single_line
from frikomport.notifications.models import OutboxMessage
from frikomport.notifications.services import Attachment, fill_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()


Renderer = Callable[[Session, dict], Rendered | None]
_renderers: dict[str, Renderer] = {}


class UnknownRenderer(LookupError):
    """A queued message names a renderer this version of the portal does not have."""


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register the decorated function as the renderer called ``name``."""
    def register(function: Renderer) -> Renderer:
        _renderers[name] = function
        return function
    return register


def queue_deferred(session: Session, to: str, name: str, arguments: dict) -> OutboxMessage:
    """Queue a message that ``renderer(name)`` writes at delivery time. ``arguments``
    must be JSON: ids and short values, not objects."""
    if name not in _renderers:
        raise UnknownRenderer(name)
    message = OutboxMessage(to_address=single_line(to), subject="", body_text="",
                            renderer=name, render_arguments=arguments)
    session.add(message)
    return message


def render_or_drop(session: Session, message: OutboxMessage) -> bool:
    """Write a deferred message's subject, body and attachments. If it is no longer
    wanted, delete it and answer False. A message already written is left as it is."""
    if message.renderer is None:
        return True
    function = _renderers.get(message.renderer)
    if function is None:
        raise UnknownRenderer(message.renderer)
    rendered = function(session, dict(message.render_arguments or {}))
    if rendered is None:
        log.info("Dropped e-mail %s: what it was about no longer exists", message.id)
        session.delete(message)
        return False
    fill_message(message, rendered.subject, rendered.body, rendered.attachments)
    message.renderer = message.render_arguments = None
    return True
