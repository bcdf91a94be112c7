"""Secret link tokens (status pages, calendar feeds): random, and stored only as a hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MAX_LENGTH = 100  # longer input is no token of ours; refuse it before hashing


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible(token: str | None) -> bool:
    return bool(token) and len(token) <= MAX_LENGTH


def derived_token(secret: str, purpose: str, seed: str) -> str:
    """A token as strong as `new_token()`, but the same for the same seed: HMAC-SHA256 of the
    seed under the secret key, URL-safe. Lets a repeated submission show the same status link
    without the link ever being stored."""
    digest = hmac.new(secret.encode(), f"{purpose}:{seed}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
