"""Everything that must not log anyone in — a token for someone else, too old, signed by
another key; a state used twice or brought by another browser; a provider that is down
or says no — ends on a page that says what happened, with a 4xx or 502, never a 500,
and nobody logged in or made (both databases, real provider)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from frikomport.accounts.models import User
from frikomport.extensions import db
from frikomport.sso.models import IdentityProvider
from tests.sso.conftest import KARI, Visitor, set_up_provider
from tests.sso.provider import free_port


def _accounts() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.email == KARI["email"]))


def _refused(response, status: int, words: str) -> None:
    assert response.status_code == status, response.text[:3000]
    assert words in response.text
    assert "Logg inn" in response.text or "innlogging" in response.text.lower()


@pytest.mark.parametrize(("tamper", "words"), [
    ({"aud": "someone-else"}, "aud"),
    ({"exp_offset": -3600}, "expired"),
    ({"foreign_key": True}, "signature"),
    ({"nonce": "not-the-nonce"}, "nonce"),
    ({"iss": "http://127.0.0.1:9/evil"}, "iss"),
], ids=["wrong-audience", "expired", "foreign-key", "wrong-nonce", "wrong-issuer"])
def test_an_id_token_that_fails_a_check_logs_nobody_in(portal, visitor, kongsberg, tamper,
                                                       words):
    set_up_provider(kongsberg, portal.provider.issuer)
    portal.provider.tamper(**tamper)
    response = visitor.log_in_with_button()
    assert response.status_code == 400, response.text[:3000]
    assert words in response.text.lower()
    assert _accounts() == 0
    assert visitor.get("/profile").status_code == 302  # to the login page


def test_a_state_works_once(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    callback = visitor.sign_in_at_provider(visitor.to_provider(visitor.post(
        "/login/sso/kongsberg")))
    assert visitor.get(callback).status_code == 302
    visitor.post("/logout")
    replayed = visitor.get(callback)
    assert replayed.status_code == 400
    assert visitor.get("/profile").status_code == 302


def test_a_login_started_in_one_browser_cannot_end_in_another(portal, kongsberg):
    """Login CSRF: the victim's browser does not hold the attacker's state."""
    set_up_provider(kongsberg, portal.provider.issuer)
    attacker, victim = Visitor(portal), Visitor(portal)
    callback = attacker.sign_in_at_provider(attacker.to_provider(attacker.post(
        "/login/sso/kongsberg")))
    assert victim.get(callback).status_code == 400
    assert victim.get("/profile").status_code == 302
    assert attacker.get(callback).status_code == 400  # and the attempt is spent
    assert _accounts() == 0


def test_the_provider_saying_no_is_told_plainly(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    portal.provider.fail_next_authorization("access_denied")
    authorize = visitor.to_provider(visitor.post("/login/sso/kongsberg"))
    callback = portal.provider.login(visitor.http, authorize, "kari", stop_at=portal.callback)
    response = visitor.get(callback)
    assert response.status_code == 403
    assert _accounts() == 0


def test_a_provider_that_is_down_gets_a_clear_page(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    dead = f"http://127.0.0.1:{free_port()}"
    db.session.execute(db.update(IdentityProvider).values(issuer=dead))
    db.session.commit()
    response = visitor.post("/login/sso/kongsberg")
    assert response.status_code == 502
    assert dead not in response.text  # the page is for the person, the log for the admin
    email_first = visitor.post("/login", {"email": KARI["email"]})
    assert email_first.status_code == 502
    # Passwords are allowed for the domain: the page offers the password step instead.
    fallback = email_first.text.split('href="/login?')[1].split('"')[0].replace("&amp;", "&")
    password_step = visitor.get(f"/login?{fallback}")
    assert 'name="password"' in password_step.text and KARI["email"] in password_step.text


def test_a_wrong_client_secret_is_a_clear_refusal(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer, secret="not-the-secret")
    response = visitor.log_in_with_button()
    assert response.status_code == 502
    assert "klient" in response.text.lower() or "client" in response.text.lower()
    assert _accounts() == 0


def test_a_switched_off_provider_logs_nobody_in(portal, visitor, kongsberg):
    set_up_provider(kongsberg, portal.provider.issuer)
    authorize = visitor.to_provider(visitor.post("/login/sso/kongsberg"))
    db.session.execute(db.update(IdentityProvider).values(enabled=False))
    db.session.commit()
    callback = visitor.sign_in_at_provider(authorize)
    assert visitor.get(callback).status_code == 403
    assert visitor.post("/login/sso/kongsberg").status_code == 404
    assert "sso/kongsberg" not in visitor.get("/login").text
    assert _accounts() == 0
