"""Figures that may be a little old (the dashboard, the yearly report), computed once and reused.

Where they are kept is CACHE_STORAGE_URI:

- `memory://` (the default): each process keeps its own, which suits one machine. With several
  workers or instances each keeps its own copy, so two reloads can show figures of different
  ages.
- `redis://…`: one copy in Redis for every worker of every app instance, so whichever instance
  answers shows the same figures, and they are recomputed about once per
  DASHBOARD_CACHE_SECONDS rather than once per process.

Redis is a convenience here, never a dependency: when it does not answer within REDIS_TIMEOUT
(to connect, and again to reply) the figures are computed as if nothing were cached, and this
process leaves Redis alone for REDIS_BACKOFF before it asks again, so an outage costs a page no
more than one short wait.

What is stored in Redis is pickled (the figures hold rows, enums and dates) and signed with a
key derived from SECRET_KEY: a value someone else wrote into Redis is never unpickled. Keys
carry REDIS_KEY_PREFIX and a fingerprint of the code that shapes the figures, so an instance of
a newer version never reads figures an older one cached (a rolling upgrade).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

SHARED_SCHEMES = ("redis://", "rediss://", "unix://")
# Redis on the same host or LAN answers in a millisecond; a page waits at most this long for a
# connection, and as long for an answer.
REDIS_TIMEOUT = 0.5
# After Redis failed, this process computes the figures without asking it for this long.
REDIS_BACKOFF = 10.0

_entries: dict[Any, tuple[float, Any]] = {}
_lock = threading.Lock()


def cached(key: tuple, seconds: int, compute: Callable[[], Any]) -> Any:
    """`compute()`'s value, reused for `seconds` (0 turns the cache off)."""
    if seconds <= 0:
        return compute()
    uri = current_app.config.get("CACHE_STORAGE_URI") or "memory://"
    if uri.startswith(SHARED_SCHEMES):
        return _shared(uri, key, seconds, compute)
    return _in_memory(key, seconds, compute)


def _in_memory(key: tuple, seconds: int, compute: Callable[[], Any]) -> Any:
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        if hit and hit[0] > now:
            return hit[1]
    value = compute()
    with _lock:
        _entries[key] = (now + seconds, value)
        if len(_entries) > 256:  # periods people look at are few; forget the oldest
            for stale in sorted(_entries, key=lambda k: _entries[k][0])[:128]:
                _entries.pop(stale, None)
    return value


# ---- shared: Redis ---------------------------------------------------------------------


def _shared(uri: str, key: tuple, seconds: int, compute: Callable[[], Any]) -> Any:
    import redis

    store = _store(uri)
    if not store.available():  # Redis failed a moment ago: don't wait for it again yet
        return compute()
    name = redis_key(key)
    secret = _signing_key()
    try:
        stored = store.client.get(name)
    except (redis.RedisError, OSError) as exc:
        store.failed(exc)
        return compute()
    store.answered()
    if stored is not None:
        value = _unsigned(stored, secret)
        if value is not _MISSING:
            return value
        log.warning("cached figures under %s are not signed with this SECRET_KEY; recomputed", name)
    value = compute()
    try:
        store.client.set(name, _signed(value, secret), px=int(seconds * 1000))
    except (redis.RedisError, OSError) as exc:
        store.failed(exc)
    return value


def redis_key(key: tuple) -> str:
    """Where `key`'s figures are kept in Redis: prefix, code fingerprint, then the key."""
    prefix = current_app.config.get("REDIS_KEY_PREFIX") or "samverka"
    return ":".join([prefix, "cache", code_fingerprint(), *(str(part) for part in key)])


class _Store:
    """This process's Redis client for one URI, and whether Redis is failing."""

    def __init__(self, uri: str) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.pid = os.getpid()
        # No retries: redis-py's default retries three times with back-off of up to 10 s,
        # which would hold a page that can simply compute its figures.
        self.client = redis.Redis.from_url(
            uri,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        self.down_until = 0.0
        self.outage = False

    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, exc: BaseException) -> None:
        with _lock:
            first = not self.outage
            self.outage = True
            self.down_until = time.monotonic() + REDIS_BACKOFF
        if first:  # once per outage, not once per page
            log.warning(
                "cache storage unavailable (%s: %s): figures are computed on each view; "
                "trying Redis again every %d s",
                type(exc).__name__, exc, REDIS_BACKOFF,
            )  # fmt: skip

    def answered(self) -> None:
        if self.outage:
            self.outage = False
            log.info("cache storage answers again: figures are shared again")


_stores: dict[str, _Store] = {}


def _store(uri: str) -> _Store:
    """This process's store for `uri`. Made on first use in each process: a client made
    before gunicorn forks would share its sockets between the workers."""
    with _lock:
        store = _stores.get(uri)
        if store is None or store.pid != os.getpid():
            store = _stores[uri] = _Store(uri)
        return store


# ---- what is stored ----------------------------------------------------------------------

_MISSING = object()
_DIGEST = hashlib.sha256().digest_size


def _signing_key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"samverka figures cache", hashlib.sha256).digest()


def _signed(value: Any, secret: bytes) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return hmac.new(secret, payload, hashlib.sha256).digest() + payload


def _unsigned(stored: bytes, secret: bytes) -> Any:
    """The value, or _MISSING when the signature is not ours (or it cannot be read)."""
    signature, payload = stored[:_DIGEST], stored[_DIGEST:]
    if not hmac.compare_digest(signature, hmac.new(secret, payload, hashlib.sha256).digest()):
        return _MISSING
    try:
        return pickle.loads(payload)  # noqa: S301 (signed with our SECRET_KEY just above)
    except Exception:  # written by this code, but unreadable (say, a class moved)
        log.exception("cached figures could not be read; recomputed")
        return _MISSING


_fingerprint: str | None = None


def code_fingerprint() -> str:
    """A digest of the modules that shape the cached figures and how they are stored."""
    global _fingerprint
    if _fingerprint is None:
        here = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for name in ("queries.py", "cache.py"):
            digest.update((here / name).read_bytes())
        _fingerprint = digest.hexdigest()[:12]
    return _fingerprint
