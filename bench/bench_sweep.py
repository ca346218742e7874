"""The sweep's cost follows what is due, not how many tasks exist.

Two SQLite stores with the same 100 tasks due at each sweep: one holds 1k tasks in all, the
other 100k (quick: 10k). Histories are written straight through the recorder in batches and
the due index is caught up before timing, so only the sweep is timed: three sweeps on three
days, each issuing the notice of a different 100 tasks (the median is reported). The 100k
figure should stay within 2x of the 1k baseline.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import Figure
from domain.task import ReformTask
from duban.app.services import Services, open_ledger
from duban.app.sweep import calendar_from_config, ladder_from_config, open_index, sweep
from duban.settings.config import parse_config

TZ_NAME = "Asia/Shanghai"
UNITS = [f"单位{i:02d}" for i in range(10)]
DUE_PER_SWEEP = 100
# Deadlines one working day apart: on each notice day only that group's notice is due
# (the previous group's reminder is 4 working days away).
GROUP_DEADLINES = (dt.date(2024, 11, 18), dt.date(2024, 11, 19), dt.date(2024, 11, 20))
SWEEP_DAYS = (dt.date(2024, 11, 11), dt.date(2024, 11, 12), dt.date(2024, 11, 13))
FAR_DEADLINE = dt.date(2025, 6, 30)
BATCH = 5000


def _config(url: str) -> Any:
    return parse_config(
        {
            "store": url,
            "timezone": TZ_NAME,
            "channels": [
                {"name": n, "platform": "console"}
                for n in ("office", "leaders", *(f"c{i}" for i in range(len(UNITS))))
            ],
            "units": [
                {
                    "name": u,
                    "channel": f"c{i}",
                    "liaisons": [{"name": "联络员", "mobile": "13800000000"}],
                }
                for i, u in enumerate(UNITS)
            ],
        }
    )


def _deadline(i: int) -> dt.date:
    group = i // DUE_PER_SWEEP
    return GROUP_DEADLINES[group] if group < len(GROUP_DEADLINES) else FAR_DEADLINE


def _write_tasks(services: Services, total: int) -> None:
    """`total` assigned tasks, stored in batches of events straight through the recorder."""
    ledger = services.ledger
    at = dt.datetime(2024, 1, 2, 9, tzinfo=services.config.tz)
    for start in range(0, total, BATCH):
        stored = []
        for i in range(start, min(start + BATCH, total)):
            task = ReformTask(
                code=f"2024-{i:06d}",
                title=f"改革任务{i}",
                lead_unit=UNITS[i % len(UNITS)],
                co_units=[],
                official=None,
                group=None,
                area=None,
                deadline=_deadline(i),
                deadline_text="",
                milestones=[],
                notes="",
                actor="bench",
                at=at,
            )
            stored += [ledger.mapper.to_stored_event(e) for e in task.collect_events()]
        ledger.recorder.insert_events(stored)


def _prepare(folder: Path, total: int) -> Services:
    url = f"sqlite:///{folder / f'sweep-{total}.db'}"
    config = _config(url)
    services = Services(config=config, ledger=open_ledger(url))
    _write_tasks(services, total)
    index = open_index(services, ladder_from_config(config), calendar_from_config(config))
    index.catch_up(services.ledger)
    return services


def _time_sweeps(services: Services) -> float:
    """Median milliseconds of the three sweeps, each issuing 100 notices."""
    timings = []
    for day in SWEEP_DAYS:
        now = dt.datetime.combine(day, dt.time(10), tzinfo=services.config.tz)
        start = time.perf_counter()
        report = sweep(services, now)
        timings.append((time.perf_counter() - start) * 1000)
        assert report.issued == DUE_PER_SWEEP, report.rungs
    return statistics.median(timings)


def run(quick: bool) -> list[Figure]:
    big = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        small_services = _prepare(Path(folder), 1_000)
        small = _time_sweeps(small_services)
        small_services.ledger.close()
        big_services = _prepare(Path(folder), big)
        large = _time_sweeps(big_services)
        big_services.ledger.close()
    base = "sweep 100 due of 1k tasks"
    return [
        Figure("sweep", base, small, "ms", higher_is_better=False),
        Figure(
            "sweep",
            f"sweep 100 due of {big // 1000}k tasks",
            large,
            "ms",
            baseline_name=base,
            baseline_value=small,
            higher_is_better=False,
        ),
    ]
