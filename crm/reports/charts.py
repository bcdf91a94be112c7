"""Accessible bar charts drawn on the server as SVG (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 440
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 160


@dataclass
class Bar:
    label: str
    value: float
    width: float
    y: float


def horizontal_bars(rows: list[tuple[str, float]]) -> dict:
    """Geometry for a horizontal bar chart; the template draws it and the data table."""
    largest = max((value for _, value in rows), default=0) or 1
    usable = WIDTH - LABEL_WIDTH - 60
    bars = [
        Bar(label, value, usable * value / largest, index * (BAR_HEIGHT + GAP))
        for index, (label, value) in enumerate(rows)
    ]
    return {
        "bars": bars,
        "width": WIDTH,
        "height": max(len(bars), 1) * (BAR_HEIGHT + GAP),
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
    }
