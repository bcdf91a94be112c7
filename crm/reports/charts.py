"""Accessible bar charts drawn on the server as SVG (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

BARS_WIDTH = 280  # the bars and their numbers
BAR_HEIGHT = 22
GAP = 8
# The label column fits the longest label (~8.2 px per character of the 14 px label font,
# wide letters included), within bounds; a label longer than LABEL_CHARS is shortened with
# "…" and named in full in the table below the chart and in the bar's link.
CHAR_WIDTH = 8.2
LABEL_CHARS = 34
LABEL_WIDTH_MIN, LABEL_WIDTH_MAX = 96, round(LABEL_CHARS * CHAR_WIDTH) + 12


@dataclass
class Bar:
    label: str
    value: float
    width: float
    y: float
    url: str | None = None  # the inquiry list filtered to exactly what the bar counts


def horizontal_bars(rows: list[tuple]) -> dict:
    """Geometry for a horizontal bar chart; the template draws it and the data table.
    Rows are (label, value) or (label, value, url)."""
    largest = max((row[1] for row in rows), default=0) or 1
    longest = max((len(str(row[0])) for row in rows), default=0)
    label_width = min(max(round(longest * CHAR_WIDTH) + 12, LABEL_WIDTH_MIN), LABEL_WIDTH_MAX)
    usable = BARS_WIDTH - 60
    bars = [
        Bar(row[0], row[1], usable * row[1] / largest, index * (BAR_HEIGHT + GAP), *row[2:3])
        for index, row in enumerate(rows)
    ]
    return {
        "bars": bars,
        "width": label_width + BARS_WIDTH,
        "height": max(len(bars), 1) * (BAR_HEIGHT + GAP),
        "label_width": label_width,
        "label_chars": LABEL_CHARS,
        "bar_height": BAR_HEIGHT,
    }
