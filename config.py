"""Configuration classes. Every value is read from the environment when the app is created."""

from __future__ import annotations

import os
from datetime import time, timedelta


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_days(name: str, default: int) -> int:
    """A number of working days: a whole number, zero or more."""
    days = _env_int(name, default)
    if days < 0:
        raise ConfigError(f"{name} must be zero or more working days, got {days}")
    return days


def _env_clock(name: str, default: str) -> time:
    """A time of day written HH:MM (24-hour clock), e.g. 17:00."""
    raw = os.environ.get(name) or default
    try:
        hours, minutes = raw.strip().split(":")
        value = time(int(hours), int(minutes))
    except ValueError as exc:
        raise ConfigError(f"{name} must be a time of day as HH:MM, not {raw!r}") from exc
    if value == time(0, 0):
        # The day would end as it begins, and every message would count as after hours.
        raise ConfigError(f"{name} must be later than 00:00")
    return value


def _env_store_uri(name: str) -> str:
    """memory:// (the default), or a Redis URL: redis://, rediss:// (TLS) or unix://."""
    raw = (os.environ.get(name) or "memory://").strip()
    if raw != "memory://" and not raw.startswith(("redis://", "rediss://", "unix://")):
        # Named by its scheme only: the rest may hold a password.
        given = raw.split("://")[0] + "://…" if "://" in raw else "a value without a scheme"
        raise ConfigError(
            f"{name} must be memory:// or a Redis URL such as redis://127.0.0.1:6379/0, not {given}"
        )
    return raw


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment; subclasses change what differs."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY_REQUIRED = False

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
        # Extra engine options; crm/database.py builds the rest from the DATABASE_* settings below.
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        self.SQLALCHEMY_RECORD_QUERIES = False
        # Every wait on the database is bounded (seconds), so an outage gets a clear answer
        # instead of hanging workers; see crm/database.py for how each one is applied.
        self.DATABASE_CONNECT_TIMEOUT = _env_int("DATABASE_CONNECT_TIMEOUT", 5)
        self.DATABASE_STATEMENT_TIMEOUT = _env_int("DATABASE_STATEMENT_TIMEOUT", 10)
        self.DATABASE_NETWORK_TIMEOUT = _env_int("DATABASE_NETWORK_TIMEOUT", 10)
        self.DATABASE_KEEPALIVES_IDLE = _env_int("DATABASE_KEEPALIVES_IDLE", 30)
        self.DATABASE_KEEPALIVES_INTERVAL = _env_int("DATABASE_KEEPALIVES_INTERVAL", 10)
        self.DATABASE_KEEPALIVES_COUNT = _env_int("DATABASE_KEEPALIVES_COUNT", 3)
        self.DATABASE_POOL_TIMEOUT = _env_int("DATABASE_POOL_TIMEOUT", 5)
        self.SQLITE_BUSY_TIMEOUT = _env_int("SQLITE_BUSY_TIMEOUT", 10)
        # Set by gunicorn.conf.py: a web worker leaves out what only `flask db` needs.
        self.WEB_WORKER = _env_bool("SAMVERKA_WEB_WORKER", False)

        self.BABEL_DEFAULT_LOCALE = "sv"
        self.BABEL_DEFAULT_TIMEZONE = "Europe/Stockholm"
        self.LANGUAGES = ("sv", "en")

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
        # Re-sign and resend the cookie only when the session changed (its seen_at moves at
        # most once a minute), not on every request: the cookie's expiry is not what ends a
        # session, its login_at and seen_at are (crm.auth.views.enforce_session_timeouts).
        self.SESSION_REFRESH_EACH_REQUEST = False
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 30))
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("SESSION_MAX_HOURS", 12))

        self.MAX_CONTENT_LENGTH = 64 * 1024
        self.WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds it

        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
        self.MAIL_PORT = _env_int("MAIL_PORT", 25)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
        self.MAIL_DEFAULT_SENDER = os.environ.get(
            "MAIL_DEFAULT_SENDER", "Samverka <samverka@lansmuseerna.se>"
        )

        # Where partners' replies go (Reply-To of every mail about an inquiry); read by
        # `flask crm fetch-mail` or piped to `flask crm receive-mail`. Empty: replies go to
        # MAIL_DEFAULT_SENDER.
        self.MAIL_INTAKE_ADDRESS = os.environ.get("MAIL_INTAKE_ADDRESS") or None
        # Reply-To as samverka+SAM-2026-0042.<signature>@…, where the mailbox supports it.
        self.MAIL_INTAKE_PLUS_ADDRESSING = _env_bool("MAIL_INTAKE_PLUS_ADDRESSING", False)
        # Larger incoming mail is not stored: it waits in the unsorted queue with the reason.
        self.MAIL_MAX_BYTES = _env_int("MAIL_MAX_BYTES", 10 * 1024 * 1024)
        # The receiving mail server's authserv-id (RFC 8601): when set, a reply matched only by
        # the subject tag must carry its Authentication-Results with dmarc, dkim or spf=pass.
        self.MAIL_AUTHSERV_ID = os.environ.get("MAIL_AUTHSERV_ID") or None
        # More unsorted mail than this from one sender in a day is listed after everyone else's.
        self.MAIL_UNSORTED_PER_SENDER_PER_DAY = _env_int("MAIL_UNSORTED_PER_SENDER_PER_DAY", 20)
        # Discarded and looped-back mail is deleted this long after it came.
        self.MAIL_DISCARDED_DAYS = _env_int("MAIL_DISCARDED_DAYS", 30)
        # The mailbox `flask crm fetch-mail` reads (IMAP over TLS unless MAIL_IMAP_SSL=false).
        self.MAIL_IMAP_HOST = os.environ.get("MAIL_IMAP_HOST") or None
        self.MAIL_IMAP_PORT = _env_int("MAIL_IMAP_PORT", 993)
        self.MAIL_IMAP_SSL = _env_bool("MAIL_IMAP_SSL", True)
        self.MAIL_IMAP_USERNAME = os.environ.get("MAIL_IMAP_USERNAME") or None
        self.MAIL_IMAP_PASSWORD = os.environ.get("MAIL_IMAP_PASSWORD") or None
        # Microsoft 365 / Google: a command printing a fresh OAuth2 access token (XOAUTH2).
        self.MAIL_IMAP_OAUTH_TOKEN_COMMAND = os.environ.get("MAIL_IMAP_OAUTH_TOKEN_COMMAND") or None
        self.MAIL_IMAP_FOLDER = os.environ.get("MAIL_IMAP_FOLDER", "INBOX")
        # Read mail is moved here (created when missing), after it is stored.
        self.MAIL_IMAP_DONE_FOLDER = os.environ.get("MAIL_IMAP_DONE_FOLDER", "Samverka")

        # Attachments: how many files a message may carry, and how large (each, all together).
        self.ATTACHMENT_MAX_FILES = _env_int("ATTACHMENT_MAX_FILES", 5)
        self.ATTACHMENT_MAX_BYTES = _env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
        self.ATTACHMENT_MAX_TOTAL_BYTES = _env_int("ATTACHMENT_MAX_TOTAL_BYTES", 25 * 1024 * 1024)
        # The register import (issue 18): the largest file and its most rows.
        self.IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_BYTES", 2 * 1024 * 1024)
        self.IMPORT_MAX_ROWS = _env_int("IMPORT_MAX_ROWS", 2000)
        # Where the files are kept (outside the static folder); default instance/attachments.
        self.ATTACHMENTS_DIR = os.environ.get("ATTACHMENTS_DIR") or None
        # ClamAV's clamd: a unix socket, or host and port. Unset: files are not scanned.
        self.CLAMD_SOCKET = os.environ.get("CLAMD_SOCKET") or None
        self.CLAMD_HOST = os.environ.get("CLAMD_HOST") or None
        self.CLAMD_PORT = _env_int("CLAMD_PORT", 3310)
        self.CLAMD_TIMEOUT = _env_int("CLAMD_TIMEOUT", 30)

        # A message is retried (back-off up to an hour) for this long, then marked failed.
        self.MAIL_GIVE_UP_HOURS = _env_int("MAIL_GIVE_UP_HOURS", 48)
        # An unsent message older than this shows on /admin/mail and turns /healthz/mail red.
        self.MAIL_ALERT_MINUTES = _env_int("MAIL_ALERT_MINUTES", 60)

        self.RATELIMIT_STORAGE_URI = _env_store_uri("RATELIMIT_STORAGE_URI")
        # Every key Samverka writes to Redis (rate limits, cached figures) starts with this, so
        # installations sharing one Redis never read each other's counts or figures.
        self.REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX") or "samverka"
        self.RATELIMIT_KEY_PREFIX = self.REDIS_KEY_PREFIX
        self.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_HEADERS_ENABLED = False
        # While Redis cannot be reached the limits are counted in each process's memory
        # (Flask-Limiter's fallback, which tries Redis again with back-off): log-in and the forms
        # keep answering, each limit multiplied by the number of processes until Redis is back.
        # A silent Redis costs a bounded wait, as for the cached figures.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        # A failed log-in is counted after its answer is made: if Redis dies just then, that one
        # count is logged and lost instead of the answer becoming a 500 page.
        self.RATELIMIT_SWALLOW_ERRORS = True
        # (Passed to Redis's client; memory:// ignores them; no other storage is accepted.)
        self.RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        # Failed log-ins: one address guessing at one account is slowed at once; the account as
        # a whole only after many more, so an attacker cannot lock its owner out.
        self.LOGIN_LIMIT_PER_ACCOUNT_AND_IP = os.environ.get(
            "LOGIN_LIMIT_PER_ACCOUNT_AND_IP", "10 per 5 minutes"
        )
        self.LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "50 per hour")
        self.LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "30 per 5 minutes")
        # Roles that must log in with a second factor (TOTP): comma-separated role names, or
        # "all". Production requires it of admins unless told otherwise.
        self.TWO_FACTOR_REQUIRED_ROLES = _roles_setting(
            os.environ.get("TWO_FACTOR_REQUIRED_ROLES", "")
        )
        # Codes tried at the second log-in step, per account.
        self.TWO_FACTOR_LIMIT = os.environ.get("TWO_FACTOR_LIMIT", "5 per 5 minutes")
        # "Glömt lösenord?" requests, per address asked about and per client address.
        self.PASSWORD_RESET_LIMIT_PER_ADDRESS = os.environ.get(
            "PASSWORD_RESET_LIMIT_PER_ADDRESS", "3 per hour"
        )
        self.PASSWORD_RESET_LIMIT_PER_IP = os.environ.get(
            "PASSWORD_RESET_LIMIT_PER_IP", "10 per hour"
        )
        # Wrong current passwords when changing one's own password, per user.
        self.PASSWORD_CHANGE_LIMIT = os.environ.get("PASSWORD_CHANGE_LIMIT", "5 per 15 minutes")
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (the
        # documented nginx set-up: 1). 0: the address is the connection's, headers ignored.
        self.TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

        # Answers on a status page, per IP address.
        self.STATUS_REPLY_RATE_LIMITS = os.environ.get(
            "STATUS_REPLY_RATE_LIMITS", "10 per hour;30 per day"
        )
        self.PUBLIC_FORM_RATE_LIMITS = os.environ.get(
            "PUBLIC_FORM_RATE_LIMITS", "5 per minute;20 per hour;100 per day"
        )
        # Seconds a person needs at least to fill the public form; the benchmark sets 0.
        self.FORM_MIN_FILL_SECONDS = _env_int("FORM_MIN_FILL_SECONDS", 3)
        self.BASE_URL = os.environ.get("SAMVERKA_BASE_URL", "http://127.0.0.1:5000")
        # The first response is due this many working days after an inquiry arrives, by priority
        # (crm/workdays/services.py). RESPONSE_TARGET_WORKING_DAYS, the single target used
        # before there was one per priority, stays the default for low and normal.
        self.RESPONSE_TARGET_WORKING_DAYS = _env_days("RESPONSE_TARGET_WORKING_DAYS", 5)
        self.RESPONSE_TARGET_DAYS_LOW = _env_days(
            "RESPONSE_TARGET_DAYS_LOW", self.RESPONSE_TARGET_WORKING_DAYS
        )
        self.RESPONSE_TARGET_DAYS_NORMAL = _env_days(
            "RESPONSE_TARGET_DAYS_NORMAL", self.RESPONSE_TARGET_WORKING_DAYS
        )
        self.RESPONSE_TARGET_DAYS_HIGH = _env_days("RESPONSE_TARGET_DAYS_HIGH", 2)
        # A response is due at the end of a working day, Swedish time, not at the minute the
        # inquiry came in; a message that arrives at or after this time counts as the next day's.
        self.WORKDAY_ENDS_AT = _env_clock("WORKDAY_ENDS_AT", "17:00")
        self.LOG_JSON = _env_bool("LOG_JSON", False)
        # The dashboard's aggregates may be this many seconds old; 0 turns the cache off.
        self.DASHBOARD_CACHE_SECONDS = _env_int("DASHBOARD_CACHE_SECONDS", 60)
        # Where they are cached: memory:// (each process its own copy) or redis://… (one copy
        # for every worker of every instance; crm/reports/cache.py).
        self.CACHE_STORAGE_URI = _env_store_uri("CACHE_STORAGE_URI")
        # Months personal data is kept after an inquiry ends, per outcome (spam keeps nothing).
        self.RETENTION_MONTHS = _env_int("RETENTION_MONTHS", 24)
        self.RETENTION_MONTHS_BY_OUTCOME = _retention_by_outcome(self.RETENTION_MONTHS)

    def finalise(self, instance_path: str) -> None:
        """Fill values that depend on where the app lives, then check the result."""
        if not self.SQLALCHEMY_DATABASE_URI:
            self.SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(
                instance_path, "samverka.sqlite3"
            )
        if not self.SECRET_KEY:
            if self.SECRET_KEY_REQUIRED:
                raise ConfigError(
                    "SECRET_KEY is not set. Production needs a long random secret to sign "
                    "sessions, e.g. SECRET_KEY=\"$(python -c 'import secrets; "
                    "print(secrets.token_hex(32))')\"."
                )
            self.SECRET_KEY = _development_secret(instance_path)
        if not self.ATTACHMENTS_DIR:
            self.ATTACHMENTS_DIR = os.path.join(instance_path, "attachments")

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in dir(self) if key.isupper()}


def _roles_setting(value: str) -> frozenset[str]:
    """Role names from a comma-separated setting; "all" for every role."""
    from crm.auth.permissions import Role

    names = {part.strip() for part in value.split(",") if part.strip()}
    if "all" in names:
        return frozenset(role.value for role in Role)
    unknown = names - {role.value for role in Role}
    if unknown:
        raise ConfigError(
            f"Unknown roles in TWO_FACTOR_REQUIRED_ROLES: {', '.join(sorted(unknown))}"
        )
    return frozenset(names)


def _retention_by_outcome(default: int) -> dict[str, int]:
    """RETENTION_MONTHS_<OUTCOME> for each outcome whose data is kept, e.g. _DECLINED."""
    # Imported here: the crm package imports this module, so a top-level import would cycle.
    from crm.inquiries.statuses import GENUINE_OUTCOMES

    if os.environ.get("RETENTION_MONTHS_CLOSED"):
        raise ConfigError(
            "RETENTION_MONTHS_CLOSED is no longer used: a closed inquiry keeps its outcome and "
            "follows RETENTION_MONTHS_AGREED, _DECLINED or _WITHDRAWN. Remove it and set those."
        )
    return {
        outcome.value: _env_int(f"RETENTION_MONTHS_{outcome.value.upper()}", default)
        for outcome in GENUINE_OUTCOMES
    }


def _development_secret(instance_path: str) -> str:
    """A per-checkout secret kept in instance/, so development sessions survive restarts."""
    import secrets

    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "dev-secret-key")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
        self.WTF_CSRF_ENABLED = False
        self.RATELIMIT_ENABLED = False
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.SERVER_NAME = None
        self.DASHBOARD_CACHE_SECONDS = 0
        self.CACHE_STORAGE_URI = "memory://"
        # Fast hashing keeps the suite quick; production uses argon2's defaults.
        self.ARGON2_PROFILE = "test"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY_REQUIRED = True

    def __init__(self) -> None:
        super().__init__()
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
        self.REMEMBER_COOKIE_SECURE = True
        self.TWO_FACTOR_REQUIRED_ROLES = _roles_setting(
            os.environ.get("TWO_FACTOR_REQUIRED_ROLES", "admin")
        )
        self.PREFERRED_URL_SCHEME = "https"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the config named by the argument or SAMVERKA_ENV (default: development)."""
    name = name or os.environ.get("SAMVERKA_ENV") or "development"
    try:
        return CONFIGS[name]()
    except KeyError:
        known = ", ".join(sorted(CONFIGS))
        raise ConfigError(f"SAMVERKA_ENV={name!r} is unknown; use one of: {known}") from None
