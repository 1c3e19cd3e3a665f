"""Logging in through an organisation's provider: the way there, the way back, linking
an existing account by its password, and the page after logging out."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from frikomport.accounts import sessions, throttle
from frikomport.accounts.services import authenticate
from frikomport.extensions import db, limiter
from frikomport.forms import Form
from frikomport.sso import flow, identities, logout
from frikomport.sso.errors import SsoError
from frikomport.sso.forms import LinkForm
from frikomport.sso.identities import PendingLink
from frikomport.sso.lookup import provider_of
from frikomport.sso.models import IdentityProvider
from frikomport.tenancy.scoping import get_organisation
from frikomport.viewhelpers import (
    no_store,
    render_form,
    run_service,
    safe_next_url,
    too_many_attempts,
)

bp = Blueprint("sso", __name__)

STATE_KEY, LINK_KEY, LOGOUT_KEY = "sso_state", "sso_link", "sso_logout"
LINK_SECONDS = 600


def failure(error: SsoError, password_login: str | None = None):
    """The page for a failed login; ``password_login`` links to the password step when
    the person may log in that way instead (their provider is down, say)."""
    return render_template("sso/error.html", message=error.message, status=error.status,
                           password_login=password_login), error.status


def to_provider(provider: IdentityProvider, next_url: str | None, login_hint: str = ""):
    """Send the browser to ``provider`` (a 303 from the login forms' POST)."""
    try:
        url, state = flow.begin(db.session, provider, safe_next_url(next_url, ""),
                                login_hint=login_hint, locale=str(get_locale()))
        db.session.commit()
    except SsoError as error:
        db.session.rollback()
        fallback = (url_for("accounts.login", email=login_hint, next=next_url)
                    if login_hint and provider.allow_local_passwords else None)
        return failure(error, fallback)
    session[STATE_KEY] = state
    return redirect(url, 303)


@bp.post("/login/sso/<slug>")
# Generous: a municipality's employees may all come from one address at 8 o'clock.
@limiter.limit("300 per minute")
def start(slug: str):
    """The organisation's button on the login page (a form, so CSRF-protected)."""
    if not Form().validate_on_submit():
        abort(400)
    provider = provider_of(db.session, get_organisation(db.session, slug))
    if provider is None or not provider.enabled:
        abort(404)
    return to_provider(provider, request.args.get("next"))


@bp.get("/login/sso/callback")
@no_store
def callback():
    try:
        result = flow.finish(db.session, request.args, session.pop(STATE_KEY, None))
    except SsoError as error:
        db.session.commit()  # the attempt is used up either way: a state works once
        return failure(error)
    db.session.commit()
    try:
        signed_in = _sign_in(result)
    except SsoError as error:
        db.session.rollback()
        return failure(error)
    if isinstance(signed_in, PendingLink):
        session[LINK_KEY] = {**signed_in.__dict__, "next": result.next_url,
                             "end_session": result.end_session_endpoint,
                             "until": time.time() + LINK_SECONDS}
        return redirect(url_for("sso.link"))
    _log_in(signed_in, result.provider, result.end_session_endpoint)
    return redirect(safe_next_url(result.next_url, url_for("core.index")))


def _sign_in(result: flow.LoginResult, attempts: int = 3):
    """identities.sign_in, flushed; run again if a simultaneous first login of the same
    person made the account or link first (a unique row), so the second finds it."""
    for attempt in range(1, attempts + 1):
        try:
            signed_in = identities.sign_in(db.session, result.provider, result.claims)
            db.session.flush()
            return signed_in
        except IntegrityError:
            db.session.rollback()
            if attempt == attempts:
                raise
    return None


def _log_in(user, provider: IdentityProvider, end_session_endpoint: str | None) -> None:
    sessions.log_in(db.session, user, then=lambda row: logout.remember(
        db.session, row, provider, end_session_endpoint))
    flash(_("Welcome, %(name)s!", name=user.name), "success")


def _pending_link() -> tuple[PendingLink, dict] | None:
    """The link waiting in the session cookie, if it is well-formed and not expired."""
    data = session.get(LINK_KEY)
    try:
        pending = PendingLink(int(data["provider_id"]), str(data["subject"]),
                              str(data["email"]), str(data["name"]))
        fresh = float(data["until"]) >= time.time()
    except (TypeError, KeyError, ValueError):
        return None
    return (pending, data) if fresh else None


@bp.route("/login/sso/link", methods=["GET", "POST"])
@no_store
def link():
    found = _pending_link()
    provider = found and db.session.get(IdentityProvider, found[0].provider_id)
    if not found or provider is None:
        session.pop(LINK_KEY, None)
        flash(_("The login has expired. Log in again."), "info")
        return redirect(url_for("accounts.login"))
    pending, data = found
    form = LinkForm()
    if form.validate_on_submit():
        ip = request.remote_addr or ""
        if wait := throttle.attempt(ip, pending.email):
            return too_many_attempts(wait)
        user = authenticate(db.session, pending.email, form.password.data)
        if user is None:
            db.session.rollback()
            form.form_errors.append(_("The password is wrong."))
        elif run_service(form, lambda: identities.link_with_password(db.session, pending,
                                                                     user)):
            throttle.succeeded(ip, pending.email)
            session.pop(LINK_KEY, None)
            _log_in(user, provider, data.get("end_session"))
            return redirect(safe_next_url(data.get("next"), url_for("core.index")))
    return render_form("sso/link.html", form, email=pending.email, provider=provider)


@bp.get("/logout/done")
def logged_out():
    """After the portal's logout: offer to log out at the provider too. The provider
    sends people back here afterwards, when there is nothing more to offer."""
    offer = session.pop(LOGOUT_KEY, None)
    if current_user.is_authenticated or not (
            isinstance(offer, list | tuple) and len(offer) == 2
            and all(isinstance(part, str) for part in offer)
            and offer[1].startswith(("https://", "http://"))):
        return redirect(url_for("core.index"))
    return render_template("sso/logged_out.html", provider_name=offer[0], end_url=offer[1])
