"""Sessions end on the server, login limiting slows guessing without locking anyone out,
and the headers that keep personal pages private are sent.

A "captured" cookie is copied into a fresh client, as an attacker who copied it from a
shared computer or a proxy log would use it.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from frikomport.accounts.models import LoginSession
from frikomport.db import utcnow
from frikomport.extensions import db
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import link_in, outbox

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def _post_login(client, user, password=DEFAULT_PASSWORD, ip="127.0.0.1", **extra):
    return client.post("/login", data={"email": user.email, "password": password, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def _is_logged_in(client, user) -> bool:
    """The personal page answers (200) instead of sending the visitor to log in (302)."""
    response = client.get("/me/registrations")
    assert response.status_code in (200, 302)
    return response.status_code == 200 and user.name in response.text


def _copy_cookies(app, source, names=("session", "remember_token")):
    thief = app.test_client()
    for name in names:
        if cookie := source.get_cookie(name):
            thief.set_cookie(name, cookie.value)
    return thief


def test_logout_ends_the_session_on_the_server(app, client):
    user = UserFactory(name="Liv Logout")
    assert _post_login(client, user).status_code == 302
    thief = _copy_cookies(app, client, names=("session",))
    assert _is_logged_in(thief, user)  # the copy works while the session lives

    client.post("/logout")
    assert not _is_logged_in(client, user)
    assert not _is_logged_in(thief, user)
    assert db.session.scalar(select(LoginSession)) is None


def test_remember_me_cookie_dies_with_logout_and_lasts_the_documented_time(app_factory, app):
    short = app_factory(SESSION_LIFETIME_SECONDS=3600, PERMANENT_SESSION_LIFETIME=3600,
                        REMEMBER_COOKIE_DURATION=3600)
    with short.app_context():
        user = UserFactory(name="Rolf Remember")
        client = short.test_client()
        response = _post_login(client, user, remember="y")
        assert response.status_code == 302
        remember = client.get_cookie("remember_token")
        assert remember is not None
        lifetime = remember.expires - utcnow()
        assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)  # not Flask-Login's year
        [row] = db.session.scalars(select(LoginSession))
        assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)

        # The remember-me cookie alone logs a browser in again …
        thief = _copy_cookies(short, client, names=("remember_token",))
        assert _is_logged_in(thief, user)
        # … until the person logs out anywhere that session is used.
        client.post("/logout")
        fresh_thief = short.test_client()
        fresh_thief.set_cookie("remember_token", remember.value)
        assert not _is_logged_in(fresh_thief, user)


def test_an_expired_session_is_not_logged_in(app, client):
    user = UserFactory(name="Eli Expired")
    _post_login(client, user)
    row = db.session.scalar(select(LoginSession))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not _is_logged_in(client, user)


def test_password_change_ends_the_other_sessions_and_keeps_this_one(app, client):
    user = UserFactory(name="Pia Passord")
    other_device = app.test_client()
    _post_login(client, user)
    _post_login(other_device, user)
    response = client.post("/profile/password", data={
        "current": DEFAULT_PASSWORD, "password": "et nytt og langt passord",
        "confirm": "et nytt og langt passord"})
    assert response.status_code == 302
    assert _is_logged_in(client, user)
    assert not _is_logged_in(other_device, user)
    assert len(db.session.scalars(select(LoginSession)).all()) == 1


def test_disabling_an_account_ends_its_sessions(app, client, login):
    user = UserFactory(name="Dag Disabled")
    device = app.test_client()
    _post_login(device, user)
    login(UserFactory(is_site_admin=True))
    assert client.post(f"/admin/users/{user.id}/enabled", data={"enabled": "0"}).status_code == 302
    assert not _is_logged_in(device, user)
    assert db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id)) is None


# Login limiting -----------------------------------------------------------------------------

@pytest.fixture
def limited(app_factory, app):
    """An app with login limiting on: 3 failures per (IP, account) a minute, 8 per IP."""
    limited = app_factory(RATELIMIT_ENABLED=True,
                          LOGIN_FAILURES_PER_ACCOUNT_AND_IP="3 per minute",
                          LOGIN_FAILURES_PER_IP="8 per minute")
    with limited.app_context():
        yield limited
        db.session.remove()


def test_wrong_passwords_elsewhere_never_lock_the_owner_out(limited):
    victim = UserFactory(name="Vera Victim")
    attacker = limited.test_client()
    codes = [_post_login(attacker, victim, "feil passord", ATTACKER).status_code
             for _ in range(6)]
    assert codes == [400, 400, 400, 429, 429, 429]
    # The attacker is slowed down even with the right password …
    refused = _post_login(attacker, victim, DEFAULT_PASSWORD, ATTACKER)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "For mange feil passord" in refused.text
    # … but the owner, from another address, logs in at once.
    owner = limited.test_client()
    assert _post_login(owner, victim, DEFAULT_PASSWORD, OWNER).status_code == 302


def test_only_failures_count_and_success_clears_them(limited):
    user = UserFactory()
    client = limited.test_client()
    for _ in range(10):  # successful logins are never limited
        assert _post_login(client, user).status_code == 302
        client.post("/logout")
    for _ in range(2):
        assert _post_login(client, user, "feil passord").status_code == 400
    assert _post_login(client, user).status_code == 302  # clears the two failures
    client.post("/logout")
    codes = [_post_login(client, user, "feil passord").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_one_address_guessing_many_accounts_is_slowed_down(limited):
    people = [UserFactory() for _ in range(5)]
    attacker = limited.test_client()
    codes = [_post_login(attacker, person, "feil passord", ATTACKER).status_code
             for person in people for _ in range(2)]
    assert codes[:8] == [400] * 8 and codes[8:] == [429, 429]
    # Another address is not affected.
    assert _post_login(limited.test_client(), people[0], ip=OWNER).status_code == 302


def test_guesses_sent_at_the_same_moment_cannot_slip_under_the_limit(limited):
    """Each attempt is counted before its password is checked: of twelve wrong guesses
    sent at once, no more than the three the limit allows are checked."""
    user = UserFactory()
    clients = [limited.test_client() for _ in range(12)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    data = {"email": user.email, "password": "feil passord"}  # threads have no app context
    errors: list[BaseException] = []

    def guess(client):
        try:
            barrier.wait(timeout=30)
            statuses.append(client.post("/login", data=data,
                                        environ_base={"REMOTE_ADDR": ATTACKER}).status_code)
        except BaseException as error:  # surfaced below, never swallowed
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(statuses) == 12 and set(statuses) <= {400, 429}, statuses
    # At most the three the limit allows are checked (the per-address limit is counted
    # in its own increment, so under contention it may refuse one of those three too).
    assert 1 <= statuses.count(400) <= 3, statuses


def test_ipv6_addresses_are_counted_per_64_network(limited):
    user = UserFactory()
    client = limited.test_client()
    codes = [_post_login(client, user, "feil", f"2001:db8:1:2::{n:x}").status_code
             for n in range(1, 5)]
    assert codes == [400, 400, 400, 429]  # four addresses, one subscriber
    assert _post_login(client, user, ip="2001:db8:1:3::1").status_code == 302


def test_logging_in_starts_a_fresh_cookie_session(app, client):
    """A session cookie planted before login (with its CSRF token) is not carried into the
    logged-in session, and logging in as someone else ends the earlier login."""
    first, second = UserFactory(), UserFactory()
    with client.session_transaction() as planted:
        planted["csrf_token"] = "chosen-by-an-attacker"
        planted["locale"] = "en"
    _post_login(client, first)
    with client.session_transaction() as current:
        assert "csrf_token" not in current and current["locale"] == "en"
    path = link_in(_reset_mail(client, second), "/password/reset/")
    client.post(path, data={"password": "et nytt og langt passord",
                            "confirm": "et nytt og langt passord"})
    owners = db.session.scalars(select(LoginSession.user_id)).all()
    assert owners == [second.id]


def _reset_mail(client, user):
    client.post("/password/forgot", data={"email": user.email})
    return outbox(user.email)[-1]


def test_every_worker_counts_against_the_same_limit(limited, app_factory):
    """Two app objects stand for two gunicorn workers: the counters are in the database,
    so failures seen by one worker count in the other (memory:// would count apart)."""
    other_worker = app_factory(RATELIMIT_ENABLED=True,
                               LOGIN_FAILURES_PER_ACCOUNT_AND_IP="3 per minute",
                               LOGIN_FAILURES_PER_IP="8 per minute")
    user = UserFactory()
    first, second = limited.test_client(), other_worker.test_client()
    assert limited.config["RATELIMIT_STORAGE_URI"] == "frikomport-db://"
    assert _post_login(first, user, "feil", ATTACKER).status_code == 400
    assert _post_login(second, user, "feil", ATTACKER).status_code == 400
    assert _post_login(first, user, "feil", ATTACKER).status_code == 400
    assert _post_login(second, user, "feil", ATTACKER).status_code == 429


def test_counting_needs_no_second_connection_from_the_request_pool(app_factory, app):
    """The counters have a pool of their own: a request holding the app's only
    connection can still be counted (it timed out with a 500 before)."""
    tight = app_factory(RATELIMIT_ENABLED=True, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 1, "max_overflow": 0, "pool_timeout": 2})
    with tight.app_context():
        email = UserFactory().email
        db.session.commit()
        db.session.remove()  # give the one connection back
        client = tight.test_client()
        codes = [client.post("/login", data={"email": email, "password": password}).status_code
                 for password in ("feil", DEFAULT_PASSWORD)]
        assert codes == [400, 302]


@pytest.mark.parametrize(("proxies", "separate"), [(0, False), (1, True)])
def test_client_address_behind_a_trusted_proxy(app_factory, app, proxies, separate):
    """Behind one trusted proxy, X-Forwarded-For names the client, so people behind the
    proxy are limited apart. Without TRUSTED_PROXIES the header is ignored: a forged one
    does not get an attacker round the limit."""
    portal = app_factory(RATELIMIT_ENABLED=True, TRUSTED_PROXIES=proxies,
                         LOGIN_FAILURES_PER_ACCOUNT_AND_IP="2 per minute",
                         LOGIN_FAILURES_PER_IP="50 per minute")
    with portal.app_context():
        user = UserFactory()
        client = portal.test_client()

        def attempt(forwarded_for, password="feil"):
            return client.post("/login", data={"email": user.email, "password": password},
                               headers={"X-Forwarded-For": forwarded_for},
                               environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code

        assert [attempt(ATTACKER), attempt(ATTACKER), attempt(ATTACKER)] == [400, 400, 429]
        expected = 302 if separate else 429
        assert attempt(OWNER, DEFAULT_PASSWORD) == expected
        db.session.remove()


# Headers ------------------------------------------------------------------------------------

def test_hsts_in_production_only(app_factory):
    production = app_factory(HSTS_SECONDS=63072000)
    assert "max-age=63072000" in production.test_client().get("/").headers[
        "Strict-Transport-Security"]
    development = app_factory(HSTS_SECONDS=0)
    assert "Strict-Transport-Security" not in development.test_client().get("/").headers


def test_production_configuration_turns_hsts_on():
    from config import load_config

    production = load_config({"FRIKOMPORT_ENV": "production", "SECRET_KEY": "x" * 40,
                              "DATABASE_URL": "sqlite://"})
    assert production["HSTS_SECONDS"] >= 31536000
    assert production["RATELIMIT_STORAGE_URI"] == "frikomport-db://"
    assert production["REMEMBER_COOKIE_DURATION"] == production["PERMANENT_SESSION_LIFETIME"]


def test_personal_pages_and_feeds_are_not_stored(app, client, login):
    user = UserFactory(calendar_token="personal-calendar-token-0123456789abcdef")
    feed = client.get("/me/calendar/personal-calendar-token-0123456789abcdef.ics")
    assert feed.status_code == 200 and "no-store" in feed.headers["Cache-Control"]
    assert "no-store" not in client.get("/courses/").headers.get("Cache-Control", "")
    login(user)
    assert "no-store" in client.get("/me/registrations").headers["Cache-Control"]
