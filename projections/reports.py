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

Order is the office's, never the code point's: units in the order the config lists them (the
机构序列), officials in theirs (rank), each official named with their title (「县委副书记、县长
陈志远」), 专责小组 in the order of the task list (`domain.directory.in_config_order`). The
overdue figure is the board's, in working days (`projections.lights.overdue_working_days`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.calendar import WorkingCalendar
from domain.directory import in_config_order
from domain.scoring import ScoringRules
from domain.task import STATUS_LABELS, TaskStatus
from domain.vocabulary import LIGHT_LABELS
from projections.assessment import ReportStore
from projections.board import DEFAULT_RULES, Facts, LightRules, light, overdue_working_days

__all__ = [
    "ESCALATION_KINDS",
    "LIGHTS",
    "STATUSES",
    "Report",
    "ReportContext",
    "completion_by_month",
    "grouped",
    "known_until",
    "milestone_states",
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
    units: tuple[str, ...] = ()  # the config's units, in its order: the assessment lists each
    office: str = "县委改革办"  # the config's ``[office] name``: the documents' issuing office
    officials: tuple[tuple[str, str], ...] = ()  # the config's (name, title), in rank order
    _latest: dict[dt.date, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def unit_order(self, names: Iterable[str]) -> list[str]:
        """`names` in the config's order of units (others after, as first given)."""
        return in_config_order(names, self.units)

    def official_order(self, names: Iterable[str]) -> list[str]:
        """`names` in the config's order of officials (others after, as first given)."""
        return in_config_order(names, [name for name, _ in self.officials])

    def official_label(self, name: str | None) -> str:
        """An official as documents name them: title then name (「县委副书记、县长陈志远」)."""
        if not name:
            return ""
        title = dict(self.officials).get(name, "")
        return f"{title}{name}"

    def latest_report_text(self, code: str, day: dt.date) -> str:
        """The text of the task's latest progress report (the lead unit's or the office's) of
        a day up to `day`: the 台账's 进展情况. Read once per day asked."""
        if day not in self._latest:
            latest: dict[str, str] = {}
            for f in self.store.facts(dt.date.min, day, ["progress"]):
                latest[f.task_code] = str(f.detail.get("text", ""))
            self._latest[day] = latest
        return self._latest[day].get(code, "")

    def heading(self) -> dict[str, Any]:
        """What every report carries for its heading: the issuing office."""
        return {"office": self.office}


def period_day(period_end: dt.date, as_of: dt.date | None) -> dt.date:
    """The day a period is shown as it stood: its last day, or the as-of day if earlier."""
    return period_end if as_of is None else min(period_end, as_of)


def known_until(as_of: dt.date | None) -> dt.date:
    """The last day whose facts a report may use."""
    return dt.date.max if as_of is None else as_of


# ---- one task's row --------------------------------------------------------------------------

MILESTONE_STATES = {"done": "已完成", "overdue": "已逾期", "pending": "未到期"}


def milestone_states(facts: Facts, day: dt.date) -> list[dict[str, str]]:
    """The task's 阶段节点 on `day`, in due order, each with its state: done (closed, or the task
    completed), overdue (its due day has passed) or pending."""
    closed = set(facts.get("closed_milestones", []))
    completed = facts["status"] == TaskStatus.COMPLETED
    items = []
    for m in sorted(facts.get("milestones") or [], key=lambda m: str(m["due"])):
        if completed or m["name"] in closed:
            state = "done"
        elif str(m["due"]) < day.isoformat():
            state = "overdue"
        else:
            state = "pending"
        items.append(
            {
                "name": m["name"],
                "due": m["due"],
                "state": state,
                "state_label": MILESTONE_STATES[state],
            }
        )
    return items


def task_row(ctx: ReportContext, facts: Facts, day: dt.date) -> dict[str, Any]:
    """One line of the 台账 as it stood on `day`."""
    color, reasons = light(facts, day, ctx.calendar, ctx.light_rules)
    last = facts["last_report_at"]
    local = dt.datetime.fromisoformat(last).astimezone(ctx.calendar.tz).date() if last else None
    return {
        "code": facts["code"],
        "title": facts["title"],
        "lead_unit": facts["lead_unit"],
        "co_units": ctx.unit_order(facts["co_units"]),
        "official": facts["official"],
        "official_label": ctx.official_label(facts["official"]),
        "group": facts["group"],
        "deadline": facts["deadline"],
        "deadline_text": facts["deadline_text"],
        "status": facts["status"],
        "status_label": STATUS_LABELS[facts["status"]],
        "light": color,
        "light_label": LIGHT_LABELS[color],
        "light_reasons": reasons,
        "percent": facts["percent"],
        "last_report_date": local.isoformat() if local else None,
        "last_report_text": ctx.latest_report_text(facts["code"], day),
        "milestones": milestone_states(facts, day),
        "days_overdue": overdue_working_days(facts, day, ctx.calendar),  # working days
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


def grouped(
    rows: Sequence[dict[str, Any]], key: str, order: Sequence[str] = ()
) -> dict[str, list[dict[str, Any]]]:
    """The rows by `key`, the keys in `order` (the config's), the rest as they first come."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key] or "（未定）", []).append(row)
    return {name: groups[name] for name in in_config_order(groups, order)}


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
