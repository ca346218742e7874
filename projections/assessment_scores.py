"""年督考 scoring: the scoring rules (`domain.scoring.ScoringRules`) applied to the facts.

Every fact of the year that can score (`year_facts`: completions, tasks unfinished past their
deadline (`projections.assessment_rules`), escalations, recognitions, 批示 not answered in time
and 问责 measures (`projections.report_register`) and the report rounds' late and missing
reports) becomes a `PointLine` with the points its
rule gives and the event behind it; a unit's score is the base plus its lines, and units are
ranked by score, ties sharing a rank (`assess`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.calendar import WorkingCalendar
from domain.scoring import ScoringRules
from projections.assessment import ReportStore
from projections.assessment_rules import (
    co_reporters,
    credited,
    deadlines_before,
    overdue_facts,
)
from projections.board import Facts
from projections.report_facts import Fact, month_of
from projections.report_outcomes import SCORED_OUTCOMES, scored_round_outcomes
from projections.report_register import unanswered_instructions

__all__ = ["EVENT_LABELS", "KIND_LABELS", "PointLine", "UnitScore", "assess", "year_facts"]

# Fact kind → the field of `ScoringRules` that weighs it (kinds not here score nothing).
RULE_OF_KIND = {
    "lead_on_time": "lead_on_time",
    "co_on_time": "co_on_time",
    "lead_late": "lead_late",
    "co_late": "co_late",
    "lead_overdue": "lead_overdue",
    "co_overdue": "co_overdue",
    "report_late": "report_late",
    "report_missing": "report_missing",
    "escalation_supervise": "supervise",
    "escalation_bulletin": "bulletin",
    "instruction_unanswered": "instruction_unanswered",
    "measure_interview": "measure_interview",
    "measure_criticism": "measure_criticism",
    "measure_accountability": "measure_accountability",
    "recognition_national": "recognition_national",
    "recognition_provincial": "recognition_provincial",
    "recognition_municipal": "recognition_municipal",
    "recognition_county": "recognition_county",
}
# The kinds derived when a score is asked for (the others are rows of the view).
DERIVED_KINDS = ("lead_overdue", "co_overdue", "instruction_unanswered", *SCORED_OUTCOMES)
KIND_LABELS = {
    "lead_on_time": "牵头任务按期完成",
    "co_on_time": "配合任务按期完成",
    "lead_late": "牵头任务逾期完成",
    "co_late": "配合任务逾期完成",
    "lead_overdue": "牵头任务逾期未完成",
    "co_overdue": "配合任务逾期未完成",
    "report_late": "月度报送迟报",
    "report_missing": "月度报送漏报",
    "escalation_supervise": "督办",
    "escalation_bulletin": "通报",
    "instruction_unanswered": "批示未按期回复",
    "measure_interview": "约谈",
    "measure_criticism": "通报批评",
    "measure_accountability": "问责",
    "recognition_national": "国家级试点/典型",
    "recognition_provincial": "省级试点/典型",
    "recognition_municipal": "市级试点/典型",
    "recognition_county": "县级试点/典型",
}
# How the 得分明细 names the event behind a point (the JSON keeps the event type).
EVENT_LABELS = {
    "ReformTask.Assigned": "任务交办",
    "ReformTask.CompletionAccepted": "销号",
    "ReformTask.EscalationRecorded": "督办记录",
    "ReformTask.Recognised": "试点典型认定",
    "ReformTask.ProgressReported": "进展报送",
    "ReportRound.ReportLate": "月度报送迟报记录",
    "ReportRound.ReportMissing": "月度报送漏报记录",
    "Instruction.Issued": "领导批示",
    "AccountabilityMeasure.Recorded": "追责问责登记",
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
    note: str = ""  # what the point is about, in the office's words (deadline, reason, 文号)

    @property
    def event_label(self) -> str:
        return EVENT_LABELS.get(self.event_type, "其他事件")


@dataclass(frozen=True)
class UnitScore:
    """A unit's score; `rank` None: a unit with no task in the year (无任务), not ranked."""

    unit: str
    base: float
    score: float
    rank: int | None
    lines: tuple[PointLine, ...]

    @property
    def ranked(self) -> bool:
        return self.rank is not None

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
        note=_note(fact),
    )


def _note(fact: Fact) -> str:
    if fact.kind.startswith("measure_"):
        return f"{fact.detail.get('reason', '')}（{fact.detail.get('document_no', '')}）"
    return str(fact.detail.get("note", ""))


def year_facts(
    store: ReportStore,
    year: int,
    as_of: dt.date,
    calendar: WorkingCalendar,
    due_working_days: int,
    tasks: Sequence[Facts] | None = None,
) -> list[Fact]:
    """Every fact that can score in `year` up to `as_of`, report-round outcomes included (a
    round is judged with the facts up to `as_of`, which may be after the year: December's
    round closes in January). The assessment date is the year's last day or `as_of` if
    earlier: the tasks unfinished past their deadline then (`tasks`: as they stood at the end
    of its month, read if not given) and the 批示 whose date passed unanswered count too; a
    co-unit's on-time credit counts only if it reported on the task in the year."""
    start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), as_of)
    kinds = [k for k in RULE_OF_KIND if k not in DERIVED_KINDS]
    facts = store.facts(start, end, kinds)
    if end < start:
        return facts
    facts = credited(facts, co_reporters(store, start, end))
    if tasks is None:
        tasks = store.tasks_at_month_end(month_of(end))
    facts += overdue_facts(tasks, end, deadlines_before(store, end))
    facts += unanswered_instructions(store, year, as_of)
    first, last = f"{year}-01", month_of(end)
    return facts + scored_round_outcomes(store, first, last, as_of, calendar, due_working_days)


def assess(
    facts: Iterable[Fact],
    rules: ScoringRules,
    units: Iterable[str] = (),
    assessed: Collection[str] | None = None,
) -> list[UnitScore]:
    """Scores per unit (base + every scored fact), ranked; ties share a rank and keep the order
    of `units` (the config's 机构序列; units only facts name come after). With `assessed`
    (the units with a task in the year), a unit neither in it nor scored by any fact has no
    rank (无任务) and comes last; the others are ranked without it."""
    lines: dict[str, list[PointLine]] = {u: [] for u in units if u}
    for fact in facts:
        line = _line(rules, fact)
        if line.points and fact.unit:
            lines.setdefault(fact.unit, []).append(line)
    idle = [u for u, ls in lines.items() if assessed is not None and u not in assessed and not ls]
    scored = [
        (unit, round(rules.base + math.fsum(p.points for p in ls), 4), ls)
        for unit, ls in lines.items()
        if unit not in idle
    ]
    scored.sort(key=lambda s: -s[1])  # stable: equal scores keep the units' order (the config's)
    ranked = [
        UnitScore(unit, rules.base, score, _rank(scored, i), tuple(ls))
        for i, (unit, score, ls) in enumerate(scored)
    ]
    return ranked + [UnitScore(unit, rules.base, rules.base, None, ()) for unit in idle]


def _rank(scored: Sequence[tuple[str, float, Any]], index: int) -> int:
    first = index
    while first > 0 and scored[first - 1][1] == scored[index][1]:
        first -= 1
    return first + 1
