"""A small per-process cache for figures that may be a minute old (the dashboard)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_entries: dict[Any, tuple[float, Any]] = {}
_lock = threading.Lock()


def cached(key, seconds: int, compute: Callable[[], Any]) -> Any:
    """`compute()`'s value, reused for `seconds` (0 turns the cache off)."""
    if seconds <= 0:
        return compute()
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
