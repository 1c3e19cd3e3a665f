"""Counters of the fixed-window rate limits (see :mod:`.storage`)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frikomport.db import db


class RateLimitCounter(db.Model):
    __tablename__ = "rate_limit_counter"

    # SHA-256 of the limit's key: keys hold e-mail addresses and IP addresses, which
    # need not be kept readable here, and a hash has a fixed length.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds
