"""Slowing down password guessing without letting anyone lock a person out.

Only *failed* logins are counted, and a successful login clears the count for that
browser's address and account. Failures are counted per (IP address, account) —
guessing one person's password from one place slows down in steps (a short wait after a
few failures, a longer one after many) — and per IP address across all accounts.
Nothing is counted per account alone: ten wrong passwords typed by an attacker
elsewhere never stop the owner from logging in.

The counters live in the rate limiter's storage, which by default is the database, so
all workers and hosts share them.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter

from frikomport.extensions import limiter


def _limits(ip: str, email: str):
    config = current_app.config
    for item in parse_many(config["LOGIN_FAILURES_PER_ACCOUNT_AND_IP"]):
        yield item, ("login-failures", ip, email), True
    for item in parse_many(config["LOGIN_FAILURES_PER_IP"]):
        yield item, ("login-failures-ip", ip), False


def _strategy() -> FixedWindowRateLimiter | None:
    if not (limiter.enabled and current_app.config["RATELIMIT_ENABLED"]):
        return None
    return FixedWindowRateLimiter(limiter.storage)


def wait_seconds(ip: str, email: str) -> int:
    """How long this address must wait before trying this account again (0: go ahead)."""
    strategy = _strategy()
    if strategy is None:
        return 0
    wait = 0.0
    for item, identifiers, _per_account in _limits(ip, email):
        if not strategy.test(item, *identifiers):
            wait = max(wait, strategy.get_window_stats(item, *identifiers).reset_time
                       - time.time())
    return math.ceil(wait) if wait > 0 else 0


def failed(ip: str, email: str) -> None:
    if strategy := _strategy():
        for item, identifiers, _per_account in _limits(ip, email):
            strategy.hit(item, *identifiers)


def succeeded(ip: str, email: str) -> None:
    """The right password: forget this address's failures for this account."""
    if strategy := _strategy():
        for item, identifiers, per_account in _limits(ip, email):
            if per_account:
                strategy.clear(item, *identifiers)
