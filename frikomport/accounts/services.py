"""Account rules: sign-up, authentication, password reset, e-mail confirmation, profile."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from frikomport.accounts import sessions, tokens
from frikomport.accounts.models import User, new_session_nonce
from frikomport.accounts.passwords import burn_time, hash_password, needs_rehash, verify_password
from frikomport.accounts.signals import password_set
from frikomport.audit.services import record
from frikomport.db import lock_row, utcnow
from frikomport.errors import DomainError, NotFoundError
from frikomport.i18n import recipient_locale
from frikomport.notifications.services import queue_templated_email
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.urls import external_url

COMMON_PASSWORDS = frozenset({
    "passord123", "password123", "1234567890", "qwertyuiop", "passord1234", "sommer2024",
    "sommer2025", "sommer2026", "vinter2025", "vinter2026", "kommune123", "frikomport",
})


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def check_password_policy(password: str, email: str = "") -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise DomainError(_("The password must be at least %(n)d characters long.", n=minimum))
    if len(password) > 128:
        raise DomainError(_("The password can be at most 128 characters long."))
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or (email and lowered == normalise_email(email)):
        raise DomainError(_("This password is too easy to guess. Choose another."))


def sign_up(session: Session, *, email: str, name: str, organisation: Organisation,
            phone: str = "", locale: str | None = None, mail_locale: str | None = None) -> None:
    """Start an account: the person chooses a password from a link sent to the address.

    ``locale`` is a language the person chose (saved on the account; None: follow the
    organisation), ``mail_locale`` the language of the page they signed up on, which
    the e-mail is written in.

    Nothing is stored until the link is opened (see :func:`finish_signup`), so nobody
    can attach someone else's address to an organisation or prepare an account for it.
    The answer is the same whether or not the address has an account (no enumeration);
    the owner of a known address is told by e-mail instead.
    """
    email = normalise_email(email)
    user = find_user_by_email(session, email)
    if user is not None and user.password_hash:
        queue_templated_email(session, email, "signup_exists", recipient_locale(user), user=user,
                              login=external_url("accounts.login"),
                              reset=external_url("accounts.forgot_password"))
        return
    token = tokens.make_signup_token(email=email, name=name.strip(), phone=phone.strip(),
                                     organisation_id=organisation.id, locale=locale)
    mail_locale = mail_locale or locale or organisation.language
    queue_templated_email(session, email, "signup_finish", mail_locale, name=name.strip(),
                          link=external_url("accounts.finish_signup", token=token),
                          days=current_app.config["EMAIL_CONFIRM_MAX_AGE"] // 86400)


def pending_signup(session: Session, token: str) -> dict:
    """The sign-up a link carries, if it is valid and the account is not made yet."""
    data = _signup_in(token)
    _refuse_if_created(find_user_by_email(session, data["email"]))
    return data


def _signup_in(token: str) -> dict:
    try:
        return tokens.load_signup(token, current_app.config["EMAIL_CONFIRM_MAX_AGE"])
    except tokens.InvalidToken as exc:
        raise DomainError(_("The link is invalid or has expired. Sign up again.")) from exc


def _refuse_if_created(user: User | None) -> None:
    if user is not None and user.password_hash:
        raise DomainError(_("The account is already created. Log in, or choose a new "
                            "password if you have forgotten it."))


def finish_signup(session: Session, token: str, password: str) -> User:
    """Create the account from the link (which proves the address) and its password.

    An older account of the address that never got a password (e.g. invited before)
    is completed instead of duplicated. The "already created" rule is checked on the
    same read of the account that is then used: on PostgreSQL each statement sees what
    others committed since the last one, so a second lookup could find an account a
    simultaneous request had just made and quietly set its password again. An older
    account is locked first, so two completions cannot both pass the rule.
    """
    data = _signup_in(token)
    user = find_user_by_email(session, data["email"])
    if user is not None:
        user = lock_row(session, User, user.id)
    _refuse_if_created(user)
    check_password_policy(password, data["email"])
    if user is None:
        organisation = session.get(Organisation, data["org"])
        user = User(email=data["email"], name=data["name"], phone=data["phone"],
                    locale=data["locale"], home_organisation=organisation)
        if organisation is not None:
            user.memberships.append(Membership(organisation=organisation, role=Role.EMPLOYEE))
        session.add(user)
    user.password_hash = hash_password(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    session.flush()
    return user


def send_email_confirmation(session: Session, user: User) -> None:
    link = external_url("accounts.confirm_email", token=tokens.make_confirm_token(user))
    queue_templated_email(session, user.email, "confirm_email", recipient_locale(user),
                          user=user, link=link)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user if the credentials are right and the account is enabled."""
    user = find_user_by_email(session, email)
    if user is None or not user.password_hash:
        burn_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_enabled:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def request_password_reset(session: Session, email: str) -> None:
    """Queue a reset link if the account exists; say nothing either way (no enumeration)."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_enabled:
        return
    link = external_url("accounts.reset_password", token=tokens.make_reset_token(user))
    hours = current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600
    queue_templated_email(session, user.email, "password_reset", recipient_locale(user),
                          user=user, link=link, hours=hours)


def user_for_reset_token(session: Session, token: str) -> User:
    """The user a reset (or invitation) link belongs to, if it is still valid.

    Invited people who never had a password get the longer invitation lifetime; a
    reset of an existing password must be used within PASSWORD_RESET_MAX_AGE.
    """
    config = current_app.config
    invalid = DomainError(_("The link is invalid, expired or already used. Ask for a new one."))
    longest = max(config["PASSWORD_RESET_MAX_AGE"], config["EMAIL_CONFIRM_MAX_AGE"])
    try:
        data, signed_at = tokens.load(tokens.RESET, token, longest)
    except tokens.InvalidToken as exc:
        raise invalid from exc
    user = session.get(User, data["uid"])
    if user is None or not user.is_enabled or not tokens.reset_token_matches(user, data):
        raise invalid
    allowed = (config["EMAIL_CONFIRM_MAX_AGE"] if user.password_hash is None
               else config["PASSWORD_RESET_MAX_AGE"])
    if (utcnow() - signed_at).total_seconds() > allowed:
        raise invalid
    return user


def reset_password(session: Session, token: str, new_password: str) -> User:
    user = user_for_reset_token(session, token)
    _set_password(user, new_password)
    # Reaching the mailbox proves the address, e.g. for invited users.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    return user


def confirm_email(session: Session, token: str) -> User:
    try:
        data, _signed_at = tokens.load(tokens.CONFIRM, token,
                                       current_app.config["EMAIL_CONFIRM_MAX_AGE"])
    except tokens.InvalidToken as exc:
        raise DomainError(_("The confirmation link is invalid or has expired.")) from exc
    user = session.get(User, data["uid"])
    if user is None or user.email != data.get("email"):
        raise DomainError(_("The confirmation link is invalid or has expired."))
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise DomainError(_("The current password is wrong."))
    _set_password(user, new)


def _set_password(user: User, password: str) -> None:
    """Set a new password; every other session of the person ends (a thief's too)."""
    check_password_policy(password, user.email)
    user.password_hash = hash_password(password)
    user.session_nonce = new_session_nonce()  # reset links already sent stop working
    sessions.end_all(object_session(user), user, keep=user.login_token)
    password_set.send(user, session=object_session(user))


def update_profile(session: Session, user: User, *, name: str, phone: str,
                   job_title: str, locale: str | None) -> None:
    """``locale`` None (or "") means no choice of one's own: follow the organisation."""
    if locale and locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Unknown language."))
    user.name, user.phone, user.job_title, user.locale = (
        name.strip(), phone.strip(), job_title.strip(), locale or None)


def create_site_admin(session: Session, *, email: str, name: str, password: str) -> User:
    """Create a site administrator, or promote an existing account to one."""
    user = find_user_by_email(session, email)
    if user is None:
        check_password_policy(password, email)
        user = User(email=normalise_email(email), name=name,
                    password_hash=hash_password(password), email_confirmed_at=utcnow())
        session.add(user)
    user.is_site_admin = True
    session.flush()
    return user


# Site administration --------------------------------------------------------------------

def search_users(session: Session, actor, query: str, limit: int = 100) -> list[User]:
    ensure(actor, Permission.MANAGE_TENANTS)
    statement = select(User).order_by(func.lower(User.name)).limit(limit)
    if query:
        needle = query.lower()
        statement = statement.where(func.lower(User.email).contains(needle, autoescape=True)
                                    | func.lower(User.name).contains(needle, autoescape=True))
    return list(session.scalars(statement))


def set_enabled(session: Session, actor, user_id: int, enabled: bool) -> User:
    """Disable or re-enable an account; disabling also ends its sessions."""
    ensure(actor, Permission.MANAGE_TENANTS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError()
    if user.id == actor.id and not enabled:
        raise DomainError(_("You cannot disable your own account."))
    user.is_enabled = enabled
    user.disabled_at = None if enabled else (user.disabled_at or utcnow())
    if not enabled:
        user.session_nonce = new_session_nonce()
        sessions.end_all(session, user)
    record(session, actor, "user.enabled" if enabled else "user.disabled", user, None,
           email=user.email)
    return user
