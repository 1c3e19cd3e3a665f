"""Organisations (tenants) and the memberships that give users a role in them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Enum, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.db import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from frikomport.accounts.models import User


class Role(enum.StrEnum):
    """Roles within one organisation, from least to most privileged."""

    EMPLOYEE = "employee"
    ORGANISER = "organiser"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    logo_filename: Mapped[str | None] = mapped_column(String(100))
    # The municipality's written form (nb/nn) or en: its pages, its staff's e-mails and,
    # by default, its courses are in it.
    language: Mapped[str] = mapped_column(String(5), default="nb", server_default="nb")
    # Invoicing (issue 13): who the organisation is to a finance system, as seller of
    # courses and as buyer for its employees. Empty strings mean "not given".
    org_number: Mapped[str] = mapped_column(String(9), default="", server_default="")
    invoice_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    receives_ehf: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    buyer_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    invoice_street: Mapped[str] = mapped_column(String(200), default="", server_default="")
    invoice_postcode: Mapped[str] = mapped_column(String(10), default="", server_default="")
    invoice_city: Mapped[str] = mapped_column(String(100), default="", server_default="")
    vat_registered: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Membership(db.Model):
    """A user's role in one organisation. Tenant-owned: carries ``organisation_id``."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, create_constraint=True, length=20, name="role",
             values_callable=lambda roles: [r.value for r in roles]),
        default=Role.EMPLOYEE,
    )
    # The unit (enhet/avdeling) of the organisation the member works in, if any.
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class Invitation(db.Model):
    """An offer of a role in an organisation, sent to an e-mail address.

    A membership is made only when the person opens the link and accepts, so an admin
    never learns whether an address already has an account (or sees its name) before
    that. Only a hash of the link's secret is stored.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, create_constraint=True, length=20, name="role",
             values_callable=lambda roles: [r.value for r in roles]))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
