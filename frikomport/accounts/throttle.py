"""Slowing down password guessing without letting anyone lock a person out.

Failed logins are counted per (client address, account) — guessing one person's password
from one place must wait once it has failed a few times — and per client address across
all accounts. Nothing is counted per account alone: wrong passwords typed by an attacker
elsewhere never stop the owner from logging in.

Each attempt is counted *before* the password is checked, with one atomic increment per
limit, so that many guesses sent at the same moment cannot all slip under the limit
while the first ones are still being checked. A right password then takes its own
attempt back: it clears the (address, account) count and gives back its share of the
address's count, so only failures are left counted.

IPv6 clients are counted per /64 network (one subscriber usually has a whole /64).
The counters live in the rate limiter's storage, by default the database, so all
workers and hosts share them.
"""

from __future__ import annotations

import ipaddress
import math
import time

from flask import current_app
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter

from frikomport.extensions import limiter


def client_key(ip: str) -> str:
    """The address as counted: IPv4 as it is, IPv6 as its /64 network."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _limits(ip: str, email: str):
    """(limit, identifiers, per_account) for every configured limit."""
    config, client = current_app.config, client_key(ip)
    for item in parse_many(config["LOGIN_FAILURES_PER_ACCOUNT_AND_IP"]):
        yield item, ("login-failures", client, email), True
    for item in parse_many(config["LOGIN_FAILURES_PER_IP"]):
        yield item, ("login-failures-ip", client), False


def _strategy() -> FixedWindowRateLimiter | None:
    if not (limiter.enabled and current_app.config["RATELIMIT_ENABLED"]):
        return None
    return FixedWindowRateLimiter(limiter.storage)


def attempt(ip: str, email: str) -> int:
    """Count a login attempt; 0 if it may go ahead, else the seconds to wait."""
    strategy = _strategy()
    if strategy is None:
        return 0
    wait = 0.0
    for item, identifiers, _per_account in _limits(ip, email):
        if not strategy.hit(item, *identifiers):
            reset = strategy.get_window_stats(item, *identifiers).reset_time
            wait = max(wait, reset - time.time(), 1)
    return math.ceil(wait)


def succeeded(ip: str, email: str) -> None:
    """The right password: forget this address's failures for this account, and do not
    count this attempt against the address."""
    if strategy := _strategy():
        for item, identifiers, per_account in _limits(ip, email):
            if per_account:
                strategy.clear(item, *identifiers)
            elif strategy.get_window_stats(item, *identifiers).remaining < item.amount:
                limiter.storage.incr(item.key_for(*identifiers), item.get_expiry(), amount=-1)
