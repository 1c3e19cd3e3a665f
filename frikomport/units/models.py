"""Units of an organisation and who leads them.

A member belongs to at most one unit of the organisation (``Membership.unit_id``). A
*leader* of a unit sees the unit's people and their competence and nothing else of the
organisation; leading is given per unit, so one person may lead several units and a unit
may have several leaders. Leading does not change the person's role in the organisation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frikomport.accounts.models import User
from frikomport.db import UTCDateTime, db, utcnow
from frikomport.tenancy.models import Organisation


class Unit(db.Model):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    leaders: Mapped[list[UnitLeader]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="UnitLeader.id")

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name!r}>"


class UnitLeader(db.Model):
    """A person who leads a unit (a member of the unit's organisation)."""

    __tablename__ = "unit_leader"
    __table_args__ = (UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="leaders")
    user: Mapped[User] = relationship()
