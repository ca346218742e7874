"""Reports from the projections: 10k tasks / 1M events (quick: 1k / 20k).

The history is written with batch inserts (many aggregates per `save`). The reports' view is
caught up once (the incremental cost, shown for reference); then each report is generated from
the view alone and compared with the baseline of reading and decoding the same events with
the bare library (what a report built by replaying the history would at least pay).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.harness import Figure
from domain.calendar import WorkingCalendar
from domain.task import ReformTask
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from projections.assessment import open_reports
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from projections.report_quarterly import quarterly_dispatch
from projections.reports import ReportContext
from projections.runner import catch_up

TZ = ZoneInfo("Asia/Shanghai")
UNITS = [f"单位{n:03d}" for n in range(120)]
GROUPS = [f"专责小组{n}" for n in range(8)]


def _task(n: int, at: dt.datetime) -> ReformTask:
    return ReformTask(
        code=f"2024-{n:05d}",
        title=f"改革任务{n}",
        lead_unit=UNITS[n % len(UNITS)],
        co_units=[UNITS[(n + 7) % len(UNITS)], UNITS[(n + 13) % len(UNITS)]],
        official=f"领导{n % 15}",
        group=GROUPS[n % len(GROUPS)],
        area=None,
        deadline=dt.date(2024, 6 + n % 7, 28),
        deadline_text="",
        milestones=[],
        notes="",
        actor="office:bench",
        at=at,
    )


def _history(task: ReformTask, n: int, per_task: int) -> None:
    start = dt.datetime(2024, 1, 2, 10, tzinfo=TZ)
    task.claim("office:bench", start)
    reports = per_task - 4
    for i in range(reports):
        at = start + dt.timedelta(days=1 + i * 330 // max(reports, 1))
        task.report_progress("推进", min(95, 5 + i), [], "office:bench", at)
    at = dt.datetime(2024, 12, 1, 10, tzinfo=TZ)
    task.record_escalation("supervise", "lead_unit", dt.date(2024, 11, 30), f"{n}", "system", at)
    task.submit_completion("完成", [], "office:bench", at + dt.timedelta(days=1))
    task.accept_completion("同意", "office:bench", at + dt.timedelta(days=2))


def build(ledger: Ledger, tasks: int, events: int, chunk: int = 200) -> None:
    per_task = max(events // tasks - 1, 6)
    for first in range(0, tasks, chunk):
        batch = []
        for n in range(first, min(first + chunk, tasks)):
            task = _task(n, dt.datetime(2024, 1, 2, 9, tzinfo=TZ))
            _history(task, n, per_task)
            batch.append(task)
        ledger.save(*batch)


def _seconds(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _read_all(ledger: Ledger) -> int:
    count, start = 0, 0
    while True:
        batch = ledger.recorder.select_notifications(start, 5000, inclusive_of_start=False)
        if not batch:
            return count
        for notification in batch:
            ledger.mapper.to_domain_event(notification)
        count += len(batch)
        start = batch[-1].id


def run(quick: bool) -> list[Figure]:
    tasks, events = (1_000, 20_000) if quick else (10_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = open_ledger(f"sqlite:///{Path(tmp) / 'bench.db'}")
        build(ledger, tasks, events)
        stored = ledger.recorder.max_notification_id() or 0
        baseline = _seconds(lambda: _read_all(ledger))
        store = open_reports(ledger.recorder.datastore)  # type: ignore[attr-defined]
        caught = _seconds(lambda: catch_up(ledger, store.projection))
        ctx = ReportContext(store, WorkingCalendar())
        day = dt.date(2024, 12, 31)
        timings = {
            "monthly 2024-11": _seconds(lambda: monthly_analysis(ctx, "2024-11", day)),
            "quarterly 2024Q3": _seconds(lambda: quarterly_dispatch(ctx, 2024, 3, day)),
            "assessment 2024": _seconds(lambda: annual_assessment(ctx, 2024, day)),
        }
    size = f"{tasks // 1000}k tasks/{stored // 1000}k ev"
    base = "read+decode all events (s)"
    figures = [Figure("reports", f"catch-up from zero, {size}", caught, "s", base, baseline, False)]
    figures += [
        Figure("reports", f"{name}, {size}", seconds, "s", base, baseline, False)
        for name, seconds in timings.items()
    ]
    return figures
