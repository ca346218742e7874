"""Server-side charts as plain geometry for inline SVG: completion and lights per lead unit.

The templates draw rectangles from these numbers; no script runs in the browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from duban.app.reads import LIGHT_LABELS, UnitSummary

__all__ = ["Segment", "UnitBars", "unit_bars"]

_ORDER = ("red", "yellow", "green", "closed")
# A closed task's own label is its status (已销号 / 已撤销); the chart counts them together.
_LABELS = {**LIGHT_LABELS, "closed": "已办结"}


@dataclass(frozen=True)
class Segment:
    light: str
    label: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class UnitBars:
    unit: str
    tasks: int
    percent: float
    segments: list[Segment]


def unit_bars(summaries: Iterable[UnitSummary]) -> list[UnitBars]:
    """Completion bars are out of 100; light bars are scaled to the unit with the most tasks."""
    summaries = list(summaries)
    widest = max((s.tasks for s in summaries), default=1)
    return [_bars(s, widest) for s in summaries]


def _bars(summary: UnitSummary, widest: int) -> UnitBars:
    segments: list[Segment] = []
    x = 0.0
    for light in _ORDER:
        count = summary.lights.get(light, 0)
        if count:
            width = 100.0 * count / widest
            segments.append(Segment(light, _LABELS[light], count, round(x, 2), round(width, 2)))
            x += width
    return UnitBars(summary.unit, summary.tasks, summary.percent, segments)
