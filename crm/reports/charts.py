"""Accessible bar charts for the dashboard: HTML rows (label, bar, number) with each bar a tiny
SVG, so labels wrap and keep their size on a phone; no script, no CDN, no inline styles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Bar:
    label: str
    value: float
    share: float  # of the largest bar, 0–100: the bar's length
    url: str | None = None  # the inquiry list filtered to exactly what the bar counts


def horizontal_bars(rows: list[tuple]) -> dict:
    """The bars of a horizontal bar chart; the template draws them and the data table.
    Rows are (label, value) or (label, value, url)."""
    largest = max((row[1] for row in rows), default=0) or 1
    return {"bars": [Bar(row[0], row[1], 100 * row[1] / largest, *row[2:3]) for row in rows]}
