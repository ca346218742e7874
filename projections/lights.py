"""The board's lights and rows: what a task's facts (`projections.board`) show on a given day.

A light changes with the calendar even when no event happens, so the board stores facts and
computes the light when it is asked, with the caller's `today` (a few date comparisons).

Light rules (`light()`; thresholds in `LightRules`, all configurable):

* **closed** (已关闭) — the task is completed (已销号) or cancelled (已撤销).
* **red** (红灯) — overdue: the effective deadline (after granted extensions) is before
  today; or escalated to 督办 (supervise) or 通报 (bulletin) since the deadline last moved
  (a granted extension or a revised deadline restarts the ladder, and so clears this).
* **yellow** (黄灯) — the deadline is within `due_within_working_days` working days (default
  5, the ladder's 到期预告), counted on the office's working-day calendar (调休 included);
  or no progress report for more than `report_gap_days` days (default 30, counted from the
  assignment when nothing was ever reported); or an extension request awaits a decision;
  or the completion was returned (退回) and not yet resubmitted.
* **green** (绿灯) — otherwise, including 持续推进 tasks (no deadline) that report monthly.

Everything here is a pure function over plain data, shared by the stored board, the board as
of a past date (`asof.py`) and the reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from domain.calendar import WorkingCalendar
from domain.rungs import rung_label
from domain.task import STATUS_LABELS, TaskStatus
from projections.facts import Facts

__all__ = [
    "BOARD_COLUMNS",
    "DEFAULT_RULES",
    "LIGHT_LABELS",
    "Light",
    "LightRules",
    "board_row",
    "light",
    "next_milestone",
    "overdue_working_days",
]

LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "closed": "已关闭"}

# The board's columns with their Chinese headers (table, CSV and XLSX output).
BOARD_COLUMNS = [
    ("code", "编号"),
    ("title", "改革任务"),
    ("area", "领域"),
    ("lead_unit", "牵头单位"),
    ("co_units", "配合单位"),
    ("official", "领衔领导"),
    ("group", "专责小组"),
    ("status_label", "状态"),
    ("light_label", "灯"),
    ("deadline", "完成时限"),
    ("assigned_deadline", "原定时限"),
    ("next_milestone_text", "下一节点"),
    ("last_report_date", "最近报送"),
    ("percent", "进度%"),
    ("escalation_label", "督办等级"),
    ("recognitions_text", "试点/典型"),
    ("light_reasons_text", "提示"),
]


@dataclass(frozen=True)
class LightRules:
    """The thresholds of the light rules (see the module docstring)."""

    due_within_working_days: int = 5
    report_gap_days: int = 30
    red_rungs: frozenset[str] = field(default_factory=lambda: frozenset({"supervise", "bulletin"}))


DEFAULT_RULES = LightRules()


class Light(NamedTuple):
    color: str  # green | yellow | red | closed
    reasons: list[str]


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _local_date(text: str | None, calendar: WorkingCalendar) -> dt.date | None:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment.astimezone(calendar.tz).date() if moment.tzinfo else moment.date()


def overdue_working_days(facts: Facts, today: dt.date, calendar: WorkingCalendar) -> int:
    """How many working days an open task is past its effective deadline on `today` (0 when it
    is closed, has no deadline or is not past it; at least 1 once the deadline has passed, even
    over a weekend). The one overdue figure: the board's 「已逾期N个工作日」, the reports' 逾期
    and the Excel 台账's 逾期工作日 all read it."""
    deadline = _date(facts["deadline"])
    if facts["status"] in TaskStatus.CLOSED or deadline is None or deadline >= today:
        return 0
    return max(calendar.working_days_between(deadline, today), 1)


def light(
    facts: Facts,
    today: dt.date,
    calendar: WorkingCalendar,
    rules: LightRules = DEFAULT_RULES,
) -> Light:
    """The task's light today, with the reasons in Chinese (a pure function)."""
    if facts["status"] in TaskStatus.CLOSED:
        return Light("closed", [])
    red = _red_reasons(facts, today, calendar, rules)
    if red:
        return Light("red", red)
    yellow = _yellow_reasons(facts, today, calendar, rules)
    return Light("yellow", yellow) if yellow else Light("green", [])


def _red_reasons(
    facts: Facts, today: dt.date, calendar: WorkingCalendar, rules: LightRules
) -> list[str]:
    reasons = []
    late = overdue_working_days(facts, today, calendar)
    if late:
        reasons.append(f"已逾期{late}个工作日")
    rung = facts["active_escalation"]
    if rung in rules.red_rungs:
        reasons.append(f"已{rung_label(rung)}")
    return reasons


def _yellow_reasons(
    facts: Facts, today: dt.date, calendar: WorkingCalendar, rules: LightRules
) -> list[str]:
    reasons = []
    deadline = _date(facts["deadline"])
    if deadline is not None:
        left = calendar.working_days_between(today, deadline)
        if left <= rules.due_within_working_days:
            reasons.append(f"{left}个工作日内到期" if left else "今日到期")
    last = _local_date(facts["last_report_at"] or facts["assigned_at"], calendar)
    if last is not None and (today - last).days > rules.report_gap_days:
        reasons.append(f"超过{rules.report_gap_days}天未报送进展")
    if facts["pending_extension"]:
        reasons.append(f"延期申请（至{facts['pending_extension']}）待审批")
    if facts["completion_returned"]:
        reasons.append("办结申请被退回")
    return reasons


def next_milestone(facts: Facts, today: dt.date) -> dict[str, str] | None:
    """The first milestone (节点) due today or later, while the task is open."""
    if facts["status"] in TaskStatus.CLOSED:
        return None
    closed = facts.get("closed_milestones", [])
    upcoming = [
        m for m in facts["milestones"] if m["due"] >= today.isoformat() and m["name"] not in closed
    ]
    if not upcoming:
        return None
    first = min(upcoming, key=lambda m: m["due"])
    return {"name": first["name"], "due": first["due"]}


def board_row(
    facts: Facts,
    today: dt.date,
    calendar: WorkingCalendar,
    rules: LightRules = DEFAULT_RULES,
) -> dict[str, Any]:
    """One board row (the documented JSON shape, see projections/__init__.py)."""
    color, reasons = light(facts, today, calendar, rules)
    milestone = next_milestone(facts, today)
    rung = facts["escalation"]
    return {
        "code": facts["code"],
        "title": facts["title"],
        "area": facts["area"],
        "status": facts["status"],
        "status_label": STATUS_LABELS[facts["status"]],
        "light": color,
        "light_label": LIGHT_LABELS[color],
        "light_reasons": reasons,
        "deadline": facts["deadline"],
        "deadline_text": facts["deadline_text"],
        "assigned_deadline": facts["assigned_deadline"],
        "extensions": facts["extensions"],
        "pending_extension": facts["pending_extension"],
        "next_milestone": milestone,
        "last_report_date": _iso(_local_date(facts["last_report_at"], calendar)),
        "percent": facts["percent"],
        "reports": facts["reports"],
        "escalation": rung,
        "escalation_label": rung_label(rung) if rung else None,
        "lead_unit": facts["lead_unit"],
        "co_units": list(facts["co_units"]),
        "official": facts["official"],
        "group": facts["group"],
        "recognitions": [dict(r) for r in facts["recognitions"]],
        "closed_milestones": list(facts.get("closed_milestones", [])),
        "co_unit_reports": [dict(r) for r in facts.get("co_unit_reports", [])],
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
