"""SQL helpers shared by every feature."""

from __future__ import annotations


def like_pattern(term: str) -> str:
    """A LIKE pattern that matches the term as plain text (%, _ and \\ escaped)."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
