"""年督考 scoring: the scoring rules (`domain.scoring.ScoringRules`) applied to the facts.

Every fact of the year that can score (`year_facts`: completions, escalations, recognitions
and the report rounds' late and missing reports) becomes a `PointLine` with the points its
rule gives and the event behind it; a unit's score is the base plus its lines, and units are
ranked by score, ties sharing a rank (`assess`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.calendar import WorkingCalendar
from domain.scoring import ScoringRules
from projections.assessment import ReportStore
from projections.report_facts import Fact, month_of
from projections.report_outcomes import scored_round_outcomes

__all__ = ["KIND_LABELS", "PointLine", "UnitScore", "assess", "year_facts"]

# Fact kind → the field of `ScoringRules` that weighs it (kinds not here score nothing).
RULE_OF_KIND = {
    "lead_on_time": "lead_on_time",
    "co_on_time": "co_on_time",
    "lead_late": "lead_late",
    "co_late": "co_late",
    "report_late": "report_late",
    "report_missing": "report_missing",
    "escalation_supervise": "supervise",
    "escalation_bulletin": "bulletin",
    "recognition_national": "recognition_national",
    "recognition_provincial": "recognition_provincial",
    "recognition_municipal": "recognition_municipal",
    "recognition_county": "recognition_county",
}
KIND_LABELS = {
    "lead_on_time": "牵头任务按期完成",
    "co_on_time": "配合任务按期完成",
    "lead_late": "牵头任务逾期完成",
    "co_late": "配合任务逾期完成",
    "report_late": "月度报送迟报",
    "report_missing": "月度报送漏报",
    "escalation_supervise": "督办",
    "escalation_bulletin": "通报",
    "recognition_national": "国家级试点/典型",
    "recognition_provincial": "省级试点/典型",
    "recognition_municipal": "市级试点/典型",
    "recognition_county": "县级试点/典型",
}


@dataclass(frozen=True)
class PointLine:
    """One scored fact: the points and the event behind them."""

    unit: str
    kind: str
    label: str
    points: float
    notification_id: int
    event_type: str
    task_code: str
    day: str


@dataclass(frozen=True)
class UnitScore:
    unit: str
    base: float
    score: float
    rank: int
    lines: tuple[PointLine, ...]

    @property
    def gained(self) -> float:
        return math.fsum(p.points for p in self.lines if p.points > 0)

    @property
    def lost(self) -> float:
        return math.fsum(p.points for p in self.lines if p.points < 0)


def _points(rules: ScoringRules, kind: str) -> float:
    field = RULE_OF_KIND.get(kind)
    return float(getattr(rules, field)) if field else 0.0


def _line(rules: ScoringRules, fact: Fact) -> PointLine:
    return PointLine(
        unit=fact.unit,
        kind=fact.kind,
        label=KIND_LABELS.get(fact.kind, fact.kind),
        points=_points(rules, fact.kind),
        notification_id=fact.position,
        event_type=fact.event_type,
        task_code=fact.task_code,
        day=fact.day,
    )


def year_facts(
    store: ReportStore,
    year: int,
    as_of: dt.date,
    calendar: WorkingCalendar,
    due_working_days: int,
) -> list[Fact]:
    """Every fact that can score in `year` up to `as_of`, report-round outcomes included (a
    round is judged with the facts up to `as_of`, which may be after the year: December's
    round closes in January)."""
    start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), as_of)
    kinds = [k for k in RULE_OF_KIND if not k.startswith("report_")]
    facts = store.facts(start, end, kinds)
    if end < start:
        return facts
    first, last = f"{year}-01", month_of(end)
    return facts + scored_round_outcomes(store, first, last, as_of, calendar, due_working_days)


def assess(
    facts: Iterable[Fact], rules: ScoringRules, units: Iterable[str] = ()
) -> list[UnitScore]:
    """Scores per unit (base + every scored fact), ranked; ties share a rank."""
    lines: dict[str, list[PointLine]] = {u: [] for u in units if u}
    for fact in facts:
        line = _line(rules, fact)
        if line.points and fact.unit:
            lines.setdefault(fact.unit, []).append(line)
    scored = [
        (unit, round(rules.base + math.fsum(p.points for p in ls), 4), ls)
        for unit, ls in lines.items()
    ]
    scored.sort(key=lambda s: (-s[1], s[0]))
    return [
        UnitScore(unit, rules.base, score, _rank(scored, i), tuple(ls))
        for i, (unit, score, ls) in enumerate(scored)
    ]


def _rank(scored: Sequence[tuple[str, float, Any]], index: int) -> int:
    first = index
    while first > 0 and scored[first - 1][1] == scored[index][1]:
        first -= 1
    return first + 1
