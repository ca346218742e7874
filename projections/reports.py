"""月分析、季调度、年督考: the three reports of the office's cycle, built from the reports' view.

Each builder reads `projections.assessment.ReportStore` (never the event history) and returns
one JSON-native dict; `duban.app.report_docs` renders it as Markdown, Excel, JSON or HTML.

* `projections.report_monthly.monthly_analysis` (月分析) — per unit and per group: tasks by
  status and light, the month's report round (on time / late / missing), overdue tasks,
  escalations issued, changes since the previous month, tasks completed and closed, and the
  plan pre-review (前置初审).
* `projections.report_quarterly.quarterly_dispatch` (季调度) — progress per group and per
  leading official, tasks at risk next quarter (deadline within it and behind schedule:
  percent below the share of time elapsed between assignment and deadline), units escalated
  repeatedly, recognitions, the quarter's 问责 measures.
* `projections.report_annual.annual_assessment` (年督考) — a score per unit from the scoring
  rules (`projections.assessment_scores`), a ranking (units with no task in the year listed as
  无任务, unranked), every point with the event behind it, the year's 问责 measures.

A report "as of" a date sees only facts of days up to it (without one: every fact stored);
the month or quarter is shown as it stood at its last day, or at the as-of date when that
comes first. A month's report round is judged with every fact up to the as-of date, since a
round closes after its month: the March analysis as of April 5 shows the late and missing
reports the round recorded on April 1.

This module holds what the three share: the `ReportContext`, one task's row of the 台账, the
tallies and the completions month by month.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.calendar import WorkingCalendar
from domain.scoring import ScoringRules
from domain.task import STATUS_LABELS, TaskStatus
from projections.assessment import ReportStore
from projections.board import DEFAULT_RULES, LIGHT_LABELS, Facts, LightRules, light

__all__ = [
    "ESCALATION_KINDS",
    "LIGHTS",
    "STATUSES",
    "Report",
    "ReportContext",
    "completion_by_month",
    "grouped",
    "known_until",
    "period_day",
    "tally",
    "task_row",
    "visible",
]

Report = dict[str, Any]
STATUSES = (
    TaskStatus.ASSIGNED,
    TaskStatus.CLAIMED,
    TaskStatus.SUBMITTED,
    TaskStatus.COMPLETED,
    TaskStatus.CANCELLED,
)
LIGHTS = ("red", "yellow", "green", "closed")
ESCALATION_KINDS = ("escalation_urge", "escalation_supervise", "escalation_bulletin")


@dataclass
class ReportContext:
    """What every report needs besides the view: the calendar, the round rule, the rules."""

    store: ReportStore
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    due_working_days: int = 5
    rules: ScoringRules = field(default_factory=ScoringRules)
    light_rules: LightRules = DEFAULT_RULES
    units: tuple[str, ...] = ()  # the config's units: the assessment lists each, tasks or not


def period_day(period_end: dt.date, as_of: dt.date | None) -> dt.date:
    """The day a period is shown as it stood: its last day, or the as-of day if earlier."""
    return period_end if as_of is None else min(period_end, as_of)


def known_until(as_of: dt.date | None) -> dt.date:
    """The last day whose facts a report may use."""
    return dt.date.max if as_of is None else as_of


# ---- one task's row --------------------------------------------------------------------------


def _days_overdue(facts: Facts, day: dt.date) -> int:
    deadline = facts["deadline"]
    if facts["status"] in TaskStatus.CLOSED or not deadline or deadline >= day.isoformat():
        return 0
    return (day - dt.date.fromisoformat(deadline)).days


def task_row(ctx: ReportContext, facts: Facts, day: dt.date) -> dict[str, Any]:
    """One line of the 台账 as it stood on `day`."""
    color, reasons = light(facts, day, ctx.calendar, ctx.light_rules)
    last = facts["last_report_at"]
    return {
        "code": facts["code"],
        "title": facts["title"],
        "lead_unit": facts["lead_unit"],
        "co_units": list(facts["co_units"]),
        "official": facts["official"],
        "group": facts["group"],
        "deadline": facts["deadline"],
        "deadline_text": facts["deadline_text"],
        "status": facts["status"],
        "status_label": STATUS_LABELS[facts["status"]],
        "light": color,
        "light_label": LIGHT_LABELS[color],
        "light_reasons": reasons,
        "percent": facts["percent"],
        "last_report_date": last[:10] if last else None,
        "days_overdue": _days_overdue(facts, day),
    }


def visible(tasks: Iterable[Facts], day: dt.date) -> list[Facts]:
    """The tasks assigned by `day`."""
    return [f for f in tasks if f["assigned_at"][:10] <= day.isoformat()]


def tally(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    statuses = Counter(r["status"] for r in rows)
    lights = Counter(r["light"] for r in rows)
    return {
        "tasks": len(rows),
        "by_status": {s: statuses[s] for s in STATUSES},
        "by_light": {c: lights[c] for c in LIGHTS},
        "overdue": sum(1 for r in rows if r["days_overdue"] > 0),
    }


def grouped(rows: Sequence[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key] or "（未定）", []).append(row)
    return groups


def completion_by_month(store: ReportStore, day: dt.date, total: int) -> list[dict[str, Any]]:
    """Tasks completed (销号) in each month of `day`'s year, cumulated, up to `day`."""
    facts = store.facts(dt.date(day.year, 1, 1), day, ["lead_on_time", "lead_late"])
    per_month = Counter(f.day[:7] for f in facts)
    done, series = 0, []
    for m in range(1, day.month + 1):
        month = f"{day.year}-{m:02d}"
        done += per_month[month]
        series.append(
            {"month": month, "completed": per_month[month], "cumulative": done, "total": total}
        )
    return series
