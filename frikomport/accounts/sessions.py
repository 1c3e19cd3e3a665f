"""Login sessions kept on the server, so that logging out really ends a session.

Flask's session cookie is signed, not stored: without a server-side record a cookie
copied before logout would keep working until it expired. Every login creates a
:class:`LoginSession` row; the cookie (and the remember-me cookie) carry its random
secret, and a request is logged in only while the row exists and has not expired.
Logging out deletes the row; a password change deletes the person's other rows;
disabling an account deletes them all.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask import session as cookie_session
from flask_login import current_user, login_user
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from frikomport.accounts.models import LoginSession, User
from frikomport.db import utcnow
from frikomport.signing import digest


def lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"])


def start(session: Session, user: User) -> LoginSession:
    """Create a session for ``user``; the secret is set on the user for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = LoginSession(user_id=user.id, token_hash=digest(token), created_at=now,
                       expires_at=now + lifetime())
    session.add(row)
    user.login_token = token
    return row


def log_in(session: Session, user: User, remember: bool = False,
           then: Callable[[LoginSession], None] | None = None) -> None:
    """Log ``user`` in on this browser: a new server-side session and fresh cookies.

    Whatever the browser held before is dropped — a session of someone else who was
    logged in here, and the anonymous cookie with its CSRF token, which an attacker
    could have planted (session fixation). Only the chosen language is kept.
    """
    if current_user.is_authenticated:
        end(session, current_user.login_token)
    locale = cookie_session.get("locale")
    cookie_session.clear()
    if locale:
        cookie_session["locale"] = locale
    row = start(session, user)
    if then is not None:  # something to keep with the session (sso: how it logged in)
        session.flush()
        then(row)
    session.commit()
    login_user(user, remember=remember, duration=lifetime())


def load(session: Session, token: str | None) -> User | None:
    """The enabled user a live session belongs to, or None."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(LoginSession).options(joinedload(LoginSession.user))
                         .where(LoginSession.token_hash == digest(token),
                                LoginSession.expires_at > utcnow()))
    if row is None or not row.user.is_enabled:
        return None
    row.user.login_token = token
    return row.user


def end(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_hash == digest(token)))


def end_all(session: Session, user: User, keep: str | None = None) -> None:
    """End every session of ``user`` (except the one with the secret ``keep``)."""
    statement = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep:
        statement = statement.where(LoginSession.token_hash != digest(keep))
    session.execute(statement)


def purge_expired(session: Session) -> int:
    return session.execute(delete(LoginSession).where(
        LoginSession.expires_at <= utcnow())).rowcount
