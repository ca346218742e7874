"""月分析、季调度、年督考: the three reports of the office's cycle, built from the reports' view.

Each builder reads `projections.assessment.ReportStore` (never the event history) and returns
one JSON-native dict; `duban.app.report_docs` renders it as Markdown, Excel, JSON or HTML.

* `monthly_analysis` (月分析) — per unit and per group: tasks by status and light, the
  month's report round (on time / late / missing), overdue tasks, escalations issued, changes
  since the previous month, tasks completed and closed, and the plan pre-review (前置初审).
* `quarterly_dispatch` (季调度) — progress per group and per leading official, tasks at risk
  next quarter (deadline within it and behind schedule: percent below the share of time
  elapsed between assignment and deadline), units escalated repeatedly, recognitions.
* `annual_assessment` (年督考) — a score per unit from the config's rules, a ranking, and
  every point with the event behind it.

A report "as of" a date sees only facts of days up to it (without one: every fact stored);
the month or quarter is shown as it stood at its last day, or at the as-of date when that
comes first. A month's report round is judged with every fact up to the as-of date, since a
round closes after its month: the March analysis as of April 5 shows the late and missing
reports the round recorded on April 1.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.calendar import WorkingCalendar
from domain.task import STATUS_LABELS, TaskStatus
from duban.settings.config import Assessment as AssessmentRules
from projections.assessment import (
    KIND_LABELS,
    Fact,
    ReportStore,
    RoundInfo,
    UnitScore,
    assess,
    month_end,
    month_of,
    round_due_date,
    round_outcomes,
    year_facts,
)
from projections.board import DEFAULT_RULES, LIGHT_LABELS, RUNG_LABELS, Facts, LightRules, light

__all__ = [
    "ReportContext",
    "annual_assessment",
    "monthly_analysis",
    "parse_month",
    "parse_quarter",
    "quarterly_dispatch",
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
CLOSE_KINDS = ("lead_on_time", "lead_late", "cancelled")
PLAN_STATUSES = {
    "plan_submitted": "已报送",
    "plan_in_review": "审核中",
    "plan_approved": "已通过",
    "plan_returned": "已退回",
}
OUTCOME_LABELS = {
    "on_time": "按时报送",
    "report_late": "迟报",
    "report_missing": "漏报",
    "pending": "未报送（未到期）",
}


@dataclass
class ReportContext:
    """What every report needs besides the view: the calendar, the round rule, the rules."""

    store: ReportStore
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    due_working_days: int = 5
    rules: AssessmentRules = field(default_factory=AssessmentRules)
    light_rules: LightRules = DEFAULT_RULES


def parse_month(text: str) -> str:
    """`2024-03` → `2024-03` (validated)."""
    dt.date.fromisoformat(f"{text}-01")
    if len(text) != 7:
        raise ValueError(f"month must be YYYY-MM: {text!r}")
    return text


def parse_quarter(text: str) -> tuple[int, int]:
    """`2024Q2` → (2024, 2)."""
    year, sep, number = text.upper().partition("Q")
    if not (sep and year.isdigit() and number in {"1", "2", "3", "4"}):
        raise ValueError(f"quarter must be YYYYQn: {text!r}")
    return int(year), int(number)


def _day_of(period_end: dt.date, as_of: dt.date | None) -> dt.date:
    return period_end if as_of is None else min(period_end, as_of)


def _known(as_of: dt.date | None) -> dt.date:
    """The last day whose facts a report may use."""
    return dt.date.max if as_of is None else as_of


def _previous_month(month: str) -> str:
    return month_of(dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1))


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


def _visible(tasks: Iterable[Facts], day: dt.date) -> list[Facts]:
    return [f for f in tasks if f["assigned_at"][:10] <= day.isoformat()]


def _tally(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    statuses = Counter(r["status"] for r in rows)
    lights = Counter(r["light"] for r in rows)
    return {
        "tasks": len(rows),
        "by_status": {s: statuses[s] for s in STATUSES},
        "by_light": {c: lights[c] for c in LIGHTS},
        "overdue": sum(1 for r in rows if r["days_overdue"] > 0),
    }


def _grouped(rows: Sequence[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key] or "（未定）", []).append(row)
    return groups


# ---- 月分析 ----------------------------------------------------------------------------------


def monthly_analysis(ctx: ReportContext, month: str, as_of: dt.date | None = None) -> Report:
    start, end = dt.date.fromisoformat(f"{month}-01"), month_end(month)
    day = _day_of(end, as_of)
    rows = _month_rows(ctx, month, day)
    known = _known(as_of)
    outcomes = round_outcomes(ctx.store, month, known, ctx.calendar, ctx.due_working_days)
    facts = ctx.store.facts(start, day)
    recorded = ctx.store.rounds(known).get(month)
    due = round_due_date(month, ctx.calendar, ctx.due_working_days).isoformat()
    return {
        "kind": "monthly",
        "month": month,
        "day": day.isoformat(),
        "round_due": recorded.due if recorded else due,
        "round": _round_info(recorded, known),
        "totals": {**_tally(rows), "reports": _outcome_counts(outcomes)},
        "units": _unit_summaries(rows, outcomes, facts),
        "groups": [{"group": g, **_tally(rs)} for g, rs in _grouped(rows, "group").items()],
        "tasks": rows,
        "reports": [_outcome_row(f) for f in outcomes],
        "overdue": [_overdue_row(r) for r in rows if r["days_overdue"] > 0],
        "escalations": [_escalation_row(f) for f in facts if f.kind in ESCALATION_KINDS],
        "changes": _changes(ctx, month, rows),
        "closed": [_closed_row(f) for f in facts if f.kind in CLOSE_KINDS],
        "plans": _plans(ctx.store, day),
        "completion": completion_by_month(ctx.store, day, len(rows)),
    }


def _round_info(info: RoundInfo | None, day: dt.date) -> dict[str, Any] | None:
    """The month's ReportRound when one was opened (None: outcomes derived from the reports)."""
    if info is None:
        return None
    return {
        "opened_on": info.opened_on,
        "due": info.due,
        "closed": info.closed_day is not None and info.closed_day <= day.isoformat(),
        "notification_id": info.position,
    }


def _month_rows(ctx: ReportContext, month: str, day: dt.date) -> list[dict[str, Any]]:
    tasks = _visible(ctx.store.tasks_at_month_end(month), day)
    return [task_row(ctx, f, day) for f in tasks]


def _outcome_counts(outcomes: Iterable[Fact]) -> dict[str, int]:
    counts = Counter(f.kind for f in outcomes)
    return {kind: counts[kind] for kind in OUTCOME_LABELS}


def _outcome_row(f: Fact) -> dict[str, Any]:
    return {
        "unit": f.unit,
        "task_code": f.task_code,
        "outcome": f.kind,
        "outcome_label": OUTCOME_LABELS.get(f.kind, f.kind),
        "day": f.day,
        "notification_id": f.position,
    }


def _unit_summaries(
    rows: Sequence[dict[str, Any]], outcomes: Sequence[Fact], facts: Sequence[Fact]
) -> list[dict[str, Any]]:
    by_unit = _grouped(rows, "lead_unit")
    summaries = []
    for unit in sorted(by_unit):
        summaries.append(
            {
                "unit": unit,
                **_tally(by_unit[unit]),
                "reports": _outcome_counts(f for f in outcomes if f.unit == unit),
                "escalations": sum(
                    1 for f in facts if f.kind in ESCALATION_KINDS and f.unit == unit
                ),
            }
        )
    return summaries


def _overdue_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("code", "title", "lead_unit", "official", "deadline", "days_overdue", "percent")
    return {k: row[k] for k in keys}


def _escalation_row(f: Fact) -> dict[str, Any]:
    rung = str(f.detail.get("rung", ""))
    return {
        "task_code": f.task_code,
        "unit": f.unit,
        "rung": rung,
        "rung_label": RUNG_LABELS.get(rung, rung),
        "day": f.day,
        "notification_id": f.position,
    }


def _closed_row(f: Fact) -> dict[str, Any]:
    labels = {"lead_on_time": "按期销号", "lead_late": "逾期销号", "cancelled": "已撤销"}
    return {
        "task_code": f.task_code,
        "unit": f.unit,
        "how": f.kind,
        "how_label": labels[f.kind],
        "day": f.day,
        "notification_id": f.position,
    }


def _changes(ctx: ReportContext, month: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    previous = _previous_month(month)
    before_day = month_end(previous)
    before = {r["code"]: r for r in _month_rows(ctx, previous, before_day)}
    changed = [_change(before.get(r["code"]), r) for r in rows]
    now, then = _tally(rows), _tally(list(before.values()))
    return {
        "previous_month": previous,
        "new_tasks": [r["code"] for r in rows if r["code"] not in before],
        "by_light_delta": {c: now["by_light"][c] - then["by_light"][c] for c in LIGHTS},
        "by_status_delta": {s: now["by_status"][s] - then["by_status"][s] for s in STATUSES},
        "tasks": [c for c in changed if c is not None],
    }


def _change(before: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any] | None:
    if before is None:
        return None
    keys = ("status_label", "light_label", "percent")
    if all(before[k] == row[k] for k in keys):
        return None
    return {
        "code": row["code"],
        **{f"{k}_from": before[k] for k in keys},
        **{k: row[k] for k in keys},
    }


def _plans(store: ReportStore, day: dt.date) -> dict[str, Any]:
    plans: dict[str, dict[str, Any]] = {}
    for f in store.facts(dt.date.min, day, list(PLAN_STATUSES)):
        plan = plans.setdefault(str(f.detail["plan"]), {"plan_code": f.task_code, "unit": f.unit})
        plan.update(title=f.detail.get("title", ""), status=f.kind[5:], day=f.day)
        plan["status_label"] = PLAN_STATUSES[f.kind]
    counts = Counter(p["status"] for p in plans.values())
    return {
        "counts": {k[5:]: counts[k[5:]] for k in PLAN_STATUSES},
        "items": sorted(plans.values(), key=lambda p: p["plan_code"]),
    }


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


# ---- 季调度 ----------------------------------------------------------------------------------


def _quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    return start, month_end(month_of(dt.date(year, 3 * quarter, 1)))


def expected_percent(facts: Facts, day: dt.date) -> int | None:
    """The share of the time from assignment to deadline elapsed on `day` (None: no deadline)."""
    if not facts["deadline"]:
        return None
    begin = dt.date.fromisoformat(facts["assigned_at"][:10])
    deadline = dt.date.fromisoformat(facts["deadline"])
    span = max((deadline - begin).days, 1)
    return max(0, min(100, round(100 * (day - begin).days / span)))


def quarterly_dispatch(
    ctx: ReportContext, year: int, quarter: int, as_of: dt.date | None = None, repeat: int = 2
) -> Report:
    start, end = _quarter_bounds(year, quarter)
    day = _day_of(end, as_of)
    tasks = _visible(ctx.store.tasks_at_month_end(month_of(day)), day)
    rows = [task_row(ctx, f, day) for f in tasks]
    nxt = _quarter_bounds(year + quarter // 4, quarter % 4 + 1)
    facts = ctx.store.facts(start, day)
    return {
        "kind": "quarterly",
        "quarter": f"{year}Q{quarter}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "day": day.isoformat(),
        "totals": _progress(rows),
        "groups": [{"group": g, **_progress(rs)} for g, rs in _grouped(rows, "group").items()],
        "officials": [
            {"official": o, **_progress(rs)} for o, rs in sorted(_grouped(rows, "official").items())
        ],
        "next_quarter": {"start": nxt[0].isoformat(), "end": nxt[1].isoformat()},
        "at_risk": _at_risk(tasks, rows, day, nxt),
        "repeated_escalations": _repeated(facts, repeat),
        "recognitions": [_recognition_row(f) for f in facts if f.kind.startswith("recognition_")],
        "units": _unit_lights(rows),
        "completion": completion_by_month(ctx.store, day, len(rows)),
    }


def _progress(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    tally = _tally(rows)
    percent = round(sum(r["percent"] for r in rows) / len(rows), 1) if rows else 0.0
    return {**tally, "completed": tally["by_status"][TaskStatus.COMPLETED], "avg_percent": percent}


def _at_risk(
    tasks: Sequence[Facts],
    rows: Sequence[dict[str, Any]],
    day: dt.date,
    nxt: tuple[dt.date, dt.date],
) -> list[dict[str, Any]]:
    risky = []
    for facts, row in zip(tasks, rows, strict=True):
        deadline, expected = facts["deadline"], expected_percent(facts, day)
        if facts["status"] in TaskStatus.CLOSED or not deadline or expected is None:
            continue
        if nxt[0].isoformat() <= deadline <= nxt[1].isoformat() and row["percent"] < expected:
            keys = ("code", "title", "lead_unit", "official", "deadline", "percent", "light_label")
            risky.append({**{k: row[k] for k in keys}, "expected_percent": expected})
    return risky


def _repeated(facts: Sequence[Fact], repeat: int) -> list[dict[str, Any]]:
    per_unit: dict[str, list[Fact]] = {}
    for f in facts:
        if f.kind in ESCALATION_KINDS:
            per_unit.setdefault(f.unit, []).append(f)
    return [
        {
            "unit": unit,
            "count": len(fs),
            "by_rung": dict(Counter(RUNG_LABELS[str(f.detail["rung"])] for f in fs)),
            "tasks": sorted({f.task_code for f in fs}),
        }
        for unit, fs in sorted(per_unit.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if len(fs) >= repeat
    ]


def _recognition_row(f: Fact) -> dict[str, Any]:
    return {
        "task_code": f.task_code,
        "unit": f.unit,
        "kind": f.detail["kind"],
        "kind_label": {"pilot": "改革试点", "exemplar": "改革典型"}.get(str(f.detail["kind"]), ""),
        "level": f.detail["level"],
        "title": f.detail["title"],
        "day": f.day,
        "notification_id": f.position,
    }


def _unit_lights(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"unit": u, **_tally(rs)} for u, rs in sorted(_grouped(rows, "lead_unit").items())]


# ---- 年督考 ----------------------------------------------------------------------------------


def annual_assessment(ctx: ReportContext, year: int, as_of: dt.date | None = None) -> Report:
    day = _day_of(dt.date(year, 12, 31), as_of)
    facts = year_facts(ctx.store, year, _known(as_of), ctx.calendar, ctx.due_working_days)
    tasks = _visible(ctx.store.tasks_at_month_end(month_of(day)), day)
    units = sorted({u for f in tasks for u in [f["lead_unit"], *f["co_units"]]})
    scores = assess(facts, ctx.rules, units)
    return {
        "kind": "assessment",
        "year": year,
        "day": day.isoformat(),
        "rules": ctx.rules.model_dump(),
        "units": [_score_row(s) for s in scores],
    }


def _score_row(score: UnitScore) -> dict[str, Any]:
    return {
        "rank": score.rank,
        "unit": score.unit,
        "base": score.base,
        "score": score.score,
        "gained": round(score.gained, 4),
        "lost": round(score.lost, 4),
        "points": [
            {
                "notification_id": p.notification_id,
                "event_type": p.event_type,
                "task_code": p.task_code,
                "kind": p.kind,
                "label": KIND_LABELS.get(p.kind, p.kind),
                "points": p.points,
                "day": p.day,
            }
            for p in score.lines
        ],
    }
