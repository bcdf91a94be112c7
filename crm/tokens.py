"""Secret link tokens (status pages, calendar feeds): random, and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

MAX_LENGTH = 100  # longer input is no token of ours; refuse it before hashing


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible(token: str | None) -> bool:
    return bool(token) and len(token) <= MAX_LENGTH
