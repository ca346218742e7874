"""季调度: the quarterly dispatch (see `projections.reports` for the three reports), with the
追责问责 measures recorded in the quarter (`projections.report_register.measure_rows`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from domain.report_round import month_bounds
from domain.rungs import RUNG_LABELS
from domain.task import TaskStatus
from domain.vocabulary import label
from projections.board import Facts
from projections.report_facts import Fact, month_of
from projections.report_register import measure_rows
from projections.reports import (
    ESCALATION_KINDS,
    Report,
    ReportContext,
    completion_by_month,
    grouped,
    period_day,
    tally,
    task_row,
    visible,
)

__all__ = ["expected_percent", "quarterly_dispatch"]


def _quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    return start, month_bounds(f"{year}-{3 * quarter:02d}")[1]


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
    day = period_day(end, as_of)
    tasks = visible(ctx.store.tasks_at_month_end(month_of(day)), day)
    rows = [task_row(ctx, f, day) for f in tasks]
    nxt = _quarter_bounds(year + quarter // 4, quarter % 4 + 1)
    facts = ctx.store.facts(start, day)
    return {
        "kind": "quarterly",
        **ctx.heading(),
        "quarter": f"{year}Q{quarter}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "day": day.isoformat(),
        "totals": _progress(rows),
        "groups": [{"group": g, **_progress(rs)} for g, rs in grouped(rows, "group").items()],
        "officials": _officials(ctx, rows),
        "next_quarter": {"start": nxt[0].isoformat(), "end": nxt[1].isoformat()},
        "at_risk": _at_risk(tasks, rows, day, nxt),
        "repeated_escalations": _repeated(ctx, facts, repeat),
        "recognitions": [_recognition_row(f) for f in facts if f.kind.startswith("recognition_")],
        "measures": measure_rows(ctx.store, start, day),
        "units": _unit_lights(ctx, rows),
        "completion": completion_by_month(ctx.store, day, len(rows)),
    }


def _officials(ctx: ReportContext, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Progress per leading official, in the config's order (rank), each named with the title."""
    by_official = grouped(rows, "official", [name for name, _ in ctx.officials])
    return [
        {"official": o, "official_label": ctx.official_label(o) or o, **_progress(rs)}
        for o, rs in by_official.items()
    ]


def _progress(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts = tally(rows)
    percent = round(sum(r["percent"] for r in rows) / len(rows), 1) if rows else 0.0
    return {
        **counts,
        "completed": counts["by_status"][TaskStatus.COMPLETED],
        "avg_percent": percent,
    }


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
            keys = ("code", "title", "lead_unit", "official", "official_label", "deadline",
                    "percent", "light_label")  # fmt: skip
            risky.append({**{k: row[k] for k in keys}, "expected_percent": expected})
    return risky


def _repeated(ctx: ReportContext, facts: Sequence[Fact], repeat: int) -> list[dict[str, Any]]:
    """Units escalated at least `repeat` times: the most escalated first, ties in config order."""
    per_unit: dict[str, list[Fact]] = {}
    for f in facts:
        if f.kind in ESCALATION_KINDS:
            per_unit.setdefault(f.unit, []).append(f)
    units = sorted(ctx.unit_order(per_unit), key=lambda u: -len(per_unit[u]))  # stable
    return [
        {
            "unit": unit,
            "count": len(per_unit[unit]),
            "by_rung": dict(Counter(RUNG_LABELS[str(f.detail["rung"])] for f in per_unit[unit])),
            "tasks": sorted({f.task_code for f in per_unit[unit]}),
        }
        for unit in units
        if len(per_unit[unit]) >= repeat
    ]


def _recognition_row(f: Fact) -> dict[str, Any]:
    return {
        "task_code": f.task_code,
        "unit": f.unit,
        "kind": f.detail["kind"],
        "kind_label": {"pilot": "改革试点", "exemplar": "改革典型"}.get(str(f.detail["kind"]), ""),
        "level": f.detail["level"],
        "level_label": label("recognition", str(f.detail["level"])),
        "title": f.detail["title"],
        "day": f.day,
        "notification_id": f.position,
    }


def _unit_lights(ctx: ReportContext, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"unit": u, **tally(rs)} for u, rs in grouped(rows, "lead_unit", ctx.units).items()]
