"""User accounts."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.db import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from frikomport.tenancy.models import Membership, Organisation, Role
    from frikomport.units.models import UnitLeader


def new_session_nonce() -> str:
    return secrets.token_hex(8)


class User(UserMixin, db.Model):
    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    # Null for invited users who have not chosen a password yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The language the person chose (nb/nn/en); None: follow their organisation's.
    locale: Mapped[str | None] = mapped_column(String(5))
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the account was disabled: it is deleted RETENTION_DISABLED_MONTHS later.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of password-reset links: rotating it makes every reset link already sent invalid.
    session_nonce: Mapped[str] = mapped_column(String(32), default=new_session_nonce)
    home_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    # Secret in the URL of the personal "my courses" iCal feed; null until first used.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    home_organisation: Mapped[Organisation | None] = relationship()
    # The units the person leads (read only when a permission asks).
    unit_leaderships: Mapped[list[UnitLeader]] = relationship(viewonly=True)

    # Flask-Login -------------------------------------------------------------
    # The login cookie (and the remember-me cookie) hold the secret of one LoginSession,
    # set on the loaded user by accounts.sessions; logging out deletes that row.
    login_token = None  # not a column: set per request by accounts.sessions

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.is_enabled

    @property
    def employer(self) -> Organisation | None:
        """The organisation the person works for: their home organisation, else the first
        one they are a member of (it decides which fee they pay and whom it is billed)."""
        if self.home_organisation is not None:
            return self.home_organisation
        return self.memberships[0].organisation if self.memberships else None

    # Roles -------------------------------------------------------------------
    def role_in(self, organisation_id: int) -> Role | None:
        for membership in self.memberships:
            if membership.organisation_id == organisation_id:
                return membership.role
        return None

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class LoginSession(db.Model):
    """One logged-in browser. Only a hash of its secret is stored, so a copy of the
    database cannot be used to log in."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()
