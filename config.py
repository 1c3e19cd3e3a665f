"""Settings for FriKomPort, read from environment variables with safe defaults.

Every setting has a development default so that `make run` works on a fresh machine.
In production (`FRIKOMPORT_ENV=production`) the portal refuses to start without a real
SECRET_KEY, and cookies are marked Secure.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import sqlite3
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSECURE_KEYS = {"", "dev", "change-me", "changeme", "secret"}
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _days(env: dict[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Whole numbers of days separated by commas ("60,14"), largest first, no repeats."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        days = {int(part) for part in raw.split(",") if part.strip()}
    except ValueError as exc:
        raise ConfigError(f"{name} must be whole numbers of days separated by commas, "
                          f"not {raw!r}") from exc
    if not days or min(days) < 1:
        raise ConfigError(f"{name} must name at least one day count of 1 or more, not {raw!r}")
    return tuple(sorted(days, reverse=True))


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``; the first when the variable is unset."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _web_address(env: dict[str, str], name: str) -> str:
    """An http(s) address shown as a link, or "" when unset (a ``javascript:`` or bare
    value would make a broken or unsafe link)."""
    value = env.get(name, "").strip()
    if value and not value.lower().startswith(("https://", "http://")):
        raise ConfigError(f"{name} must start with https://, not {value!r}")
    return value


def _fernet_keys(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Fernet keys (urlsafe base64 of 32 bytes) separated by commas, each checked here so
    that a mistyped key stops the start, not the first login."""
    keys = tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
    for key in keys:
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (ValueError, binascii.Error) as exc:
            raise ConfigError(f"{name}: {key[:4]}… is not base64") from exc
        if len(raw) != 32:
            raise ConfigError(f"{name}: each key must be 32 bytes in urlsafe base64 "
                              "(python -c 'from cryptography.fernet import Fernet; "
                              "print(Fernet.generate_key().decode())')")
    return keys


def _instance_secret_key(instance_dir: Path) -> str:
    """Load (or create once) a random development key kept in the instance folder.

    A key per process would log everyone out on every restart and break multi-worker
    development servers; a key committed to the repository would be public.
    """
    key_file = instance_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(env: dict[str, str] | None = None) -> dict[str, object]:
    """Build the Flask config mapping from environment variables."""
    env = dict(os.environ if env is None else env)
    environment = env.get("FRIKOMPORT_ENV", "development").strip().lower()
    if environment not in {"development", "production"}:
        raise ConfigError("FRIKOMPORT_ENV must be 'development' or 'production'")
    production = environment == "production"
    instance_dir = Path(env.get("FRIKOMPORT_DATA_DIR", ROOT / "instance")).resolve()

    secret_key = env.get("SECRET_KEY", "").strip()
    if production:
        if secret_key.lower() in INSECURE_KEYS or len(secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                "Refusing to start in production without a real SECRET_KEY "
                f"(at least {MIN_SECRET_KEY_LENGTH} random characters)."
            )
    elif not secret_key:
        secret_key = _instance_secret_key(instance_dir)

    return {
        "ENV_NAME": environment,
        "SECRET_KEY": secret_key,
        "DATA_DIR": str(instance_dir),
        "SQLALCHEMY_DATABASE_URI": _database_url(env, instance_dir),
        "BASE_URL": env.get("BASE_URL", "http://localhost:5000").rstrip("/"),
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "PERMANENT_SESSION_LIFETIME": _int(env, "SESSION_LIFETIME_SECONDS", 8 * 3600),
        # "Keep me logged in" lasts as long as a session, not Flask-Login's default year.
        "REMEMBER_COOKIE_DURATION": _int(env, "SESSION_LIFETIME_SECONDS", 8 * 3600),
        # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto headers
        # are trusted (0: none; the client address is the socket's peer).
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        "HSTS_SECONDS": _int(env, "HSTS_SECONDS", 63072000 if production else 0),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_CONTENT_LENGTH": _int(env, "MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
        # Accounts
        "PASSWORD_MIN_LENGTH": _int(env, "PASSWORD_MIN_LENGTH", 10),
        "PASSWORD_RESET_MAX_AGE": _int(env, "PASSWORD_RESET_MAX_AGE", 2 * 3600),
        "EMAIL_CONFIRM_MAX_AGE": _int(env, "EMAIL_CONFIRM_MAX_AGE", 7 * 24 * 3600),
        "ARGON2_TIME_COST": _int(env, "ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_COST": _int(env, "ARGON2_MEMORY_COST", 65536),
        # Rate limiting. Counters are kept in the database by default, so every worker and
        # host shares them; redis://… is faster for busy installs.
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "frikomport-db://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_FAILURES_PER_ACCOUNT_AND_IP": env.get("LOGIN_FAILURES_PER_ACCOUNT_AND_IP",
                                                     "5 per minute;20 per hour"),
        "LOGIN_FAILURES_PER_IP": env.get("LOGIN_FAILURES_PER_IP", "30 per minute;300 per hour"),
        # Monitoring may read /healthz in full with "Authorization: Bearer <HEALTH_TOKEN>".
        "HEALTH_TOKEN": env.get("HEALTH_TOKEN", ""),
        # E-mail
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "smtp" if production else "folder"),
        "MAIL_FOLDER": env.get("MAIL_FOLDER", str(instance_dir / "mail")),
        "MAIL_FROM": env.get("MAIL_FROM", "FriKomPort <noreply@frikomport.example.org>"),
        "SMTP_HOST": env.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": _int(env, "SMTP_PORT", 587),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS"), True),
        "SMTP_TIMEOUT": _int(env, "SMTP_TIMEOUT", 30),
        "OUTBOX_IN_PROCESS": _bool(env.get("OUTBOX_IN_PROCESS"), not production),
        "OUTBOX_POLL_SECONDS": _int(env, "OUTBOX_POLL_SECONDS", 5),
        "OUTBOX_MAX_ATTEMPTS": _int(env, "OUTBOX_MAX_ATTEMPTS", 8),
        # Calendar and Atom feeds (frikomport/courses/feed_window.py) cover the courses
        # from this many months back to this many ahead, at most FEED_MAX_EVENTS events;
        # shared caches may keep a public feed FEED_MAX_AGE_SECONDS.
        "FEED_MONTHS_BACK": _int(env, "FEED_MONTHS_BACK", 3),
        "FEED_MONTHS_AHEAD": _int(env, "FEED_MONTHS_AHEAD", 18),
        "FEED_MAX_EVENTS": _int(env, "FEED_MAX_EVENTS", 1000),
        "FEED_MAX_AGE_SECONDS": _int(env, "FEED_MAX_AGE_SECONDS", 300),
        # Registrations
        "REMINDER_DAYS": _int(env, "REMINDER_DAYS", 2),
        # Competence (frikomport/competence/reminders.py): a holding that runs out is
        # reminded this many days before (each threshold once, the nearest one only).
        "COMPETENCE_REMINDER_DAYS": _days(env, "COMPETENCE_REMINDER_DAYS", (60, 14)),
        # Guest registrations whose e-mail address is not confirmed are deleted after this.
        "GUEST_CONFIRM_HOURS": _int(env, "GUEST_CONFIRM_HOURS", 48),
        # Retention (frikomport/privacy/retention.py), counted from the end of the course,
        # the sending of an e-mail or the audit event.
        "RETENTION_COMMENT_MONTHS": _int(env, "RETENTION_COMMENT_MONTHS", 12),
        "RETENTION_PARTICIPANT_YEARS": _int(env, "RETENTION_PARTICIPANT_YEARS", 5),
        "RETENTION_INVOICE_YEARS": _int(env, "RETENTION_INVOICE_YEARS", 5),
        "RETENTION_OUTBOX_DAYS": _int(env, "RETENTION_OUTBOX_DAYS", 30),
        "RETENTION_AUDIT_MONTHS": _int(env, "RETENTION_AUDIT_MONTHS", 12),
        "RETENTION_DISABLED_MONTHS": _int(env, "RETENTION_DISABLED_MONTHS", 12),
        # Privacy notice (/privacy): who is responsible for the personal data of this
        # install. Empty values are shown as "not filled in yet", never invented.
        "PRIVACY_CONTROLLER_NAME": env.get("PRIVACY_CONTROLLER_NAME", "").strip(),
        "PRIVACY_CONTROLLER_ADDRESS": env.get("PRIVACY_CONTROLLER_ADDRESS", "").strip(),
        "PRIVACY_CONTACT_EMAIL": env.get("PRIVACY_CONTACT_EMAIL", "").strip(),
        "PRIVACY_DPO_EMAIL": env.get("PRIVACY_DPO_EMAIL", "").strip(),
        "PRIVACY_OPERATOR_ROLE": _choice(env, "PRIVACY_OPERATOR_ROLE",
                                         ("controller", "processor")),
        # Accessibility statement (/accessibility): where to report a problem, and the
        # operator's own statement in Digdir's uustatus (optional). Empty values are shown
        # as "not filled in yet", never invented.
        "ACCESSIBILITY_CONTACT_EMAIL": env.get("ACCESSIBILITY_CONTACT_EMAIL", "").strip(),
        "ACCESSIBILITY_STATEMENT_URL": _web_address(env, "ACCESSIBILITY_STATEMENT_URL"),
        # Housekeeping (purges, expiries) from a thread in the web process, every N seconds.
        "HOUSEKEEPING_IN_PROCESS": _bool(env.get("HOUSEKEEPING_IN_PROCESS"), not production),
        "HOUSEKEEPING_SECONDS": _int(env, "HOUSEKEEPING_SECONDS", 600),
        # Single sign-on (frikomport/sso): Fernet keys that encrypt the providers' client
        # secrets, comma-separated, newest first (older ones still decrypt, for rotation).
        # Unset in development: one key derived from SECRET_KEY. Unset in production:
        # SSO cannot be configured until it is set.
        "SSO_SECRET_KEYS": _fernet_keys(env, "SSO_SECRET_KEYS"),
        # Issuers on http:// or at private, loopback or link-local addresses (a provider on
        # the test machine); refused in production, where the server would otherwise fetch
        # whatever address an organisation admin typed in.
        "SSO_ALLOW_LOCAL_ISSUERS": _bool(env.get("SSO_ALLOW_LOCAL_ISSUERS"), not production),
        "SSO_HTTP_TIMEOUT": _int(env, "SSO_HTTP_TIMEOUT", 10),
        # Search: "whoosh" (embedded, one host) or "postgresql" (several app servers)
        "SEARCH_BACKEND": env.get("SEARCH_BACKEND", "whoosh"),
        "SEARCH_INDEX_DIR": env.get("SEARCH_INDEX_DIR", str(instance_dir / "search")),
        "SEARCH_IN_PROCESS": _bool(env.get("SEARCH_IN_PROCESS"), not production),
        "SEARCH_POLL_SECONDS": _int(env, "SEARCH_POLL_SECONDS", 2),
        # Language
        "BABEL_DEFAULT_LOCALE": "nb",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Oslo",
        # Each language named in itself (the switch marks each with its own lang).
        "LANGUAGES": {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"},
    }


def _database_url(env: dict[str, str], instance_dir: Path) -> str:
    url = env.get("DATABASE_URL", "").strip()
    if not url or url.startswith("sqlite"):
        _require_sqlite_upsert()
    if not url:
        instance_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_dir / 'frikomport.db'}"
    # Accept the common postgres:// spellings and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _require_sqlite_upsert() -> None:
    """Rate-limit counters use INSERT … ON CONFLICT … RETURNING (SQLite 3.35, 2021)."""
    if sqlite3.sqlite_version_info < (3, 35):
        raise ConfigError(f"SQLite {sqlite3.sqlite_version} is too old: FriKomPort needs 3.35 "
                          "or newer (or PostgreSQL).")
