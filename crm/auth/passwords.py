"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 128

# OWASP's argon2id configuration (19 MiB, 2 passes, 1 lane). argon2-cffi's own default
# (64 MiB, 4 lanes) made every log-in hold 64 MiB: a web worker with four threads could need
# 256 MiB for log-ins alone. Stored hashes with other parameters are renewed at log-in.
# A cheap profile keeps the test suite fast.
_PROFILES = {
    "default": {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1},
    "test": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


def _hasher() -> PasswordHasher:
    profile = current_app.config.get("ARGON2_PROFILE", "default")
    return _hasher_for(profile)


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher(**_PROFILES[profile])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """Check a password; also return a new hash when the parameters have changed."""
    hasher = _hasher()
    try:
        hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if hasher.check_needs_rehash(stored_hash):
        return True, hasher.hash(password)
    return True, None


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("crm.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Every reason the password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Lösenordet måste ha minst %(n)d tecken.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Lösenordet får ha högst %(n)d tecken.", n=MAX_LENGTH))
    if email and password.strip().casefold() == email.strip().casefold():
        problems.append(_("Lösenordet får inte vara din e-postadress."))
    if password.casefold() in common_passwords():
        problems.append(_("Lösenordet är för vanligt. Välj ett annat."))
    return problems
