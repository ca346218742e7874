"""The task board's costs against the library's own floor, on an SQLite file.

A year of reform-task history is generated straight into the store (aggregates driven
through their real methods, the events mapped by the ledger's mapper and inserted through
the recorder 20,000 at a time: no save per event). Full: 10,000 tasks and 1,000,000 events;
quick: 1,000 tasks and 20,000 events. Then, in the same run:

* floor — the bare library reading and decoding the same events
  (`select_notifications` + `mapper.to_domain_event`), events/s;
* board rebuild — events/s, ratio to the floor (target >= 0.5); both measured in one child
  process, so that they run under the same conditions and its peak RSS is the rebuild's
  (target < 500 MB; the floor's batches are far smaller);
* incremental catch-up of 1,000 new events with 10,000 events of history and with the full
  history (target: within 2x), each from a cold start as a CLI call would make it;

Rates are given in wall time and in this process's CPU time: the project's machines are
shared 2-core ones, where other work stretches wall time but not CPU time.
* the board query with lights for every task; the hash chain's rebuild and verify rates.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.harness import Figure, peak_rss_mb, rate
from domain.task import ReformTask, TaskStatus
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from projections import runner
from projections.board import open_board
from projections.chain import open_chain

NAME = "board"
TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[1]
UNITS = [f"县第{i}局" for i in range(60)]
OFFICE, SYSTEM = "office:改革办", "system:duban"
RUNGS = ("notice", "reminder", "urge", "supervise", "bulletin")


class History:
    """Writes a plausible year of task events into one SQLite store, in big batches."""

    def __init__(self, path: Path, tasks: int, seed: int = 7) -> None:
        self.ledger: Ledger = open_ledger(f"sqlite:///{path}")
        self.rng = random.Random(seed)
        self.start = dt.datetime(2024, 1, 2, 9, tzinfo=TZ)
        self.tick = 0
        self.pending: list[Any] = []
        self.tasks = [self._assign(i) for i in range(tasks)]
        self._flush()

    def now(self) -> dt.datetime:
        self.tick += 1
        return self.start + dt.timedelta(seconds=30 * self.tick)

    def _assign(self, i: int) -> ReformTask:
        unit = self.rng.choice(UNITS)
        deadline = dt.date(2024, 3, 31) + dt.timedelta(days=self.rng.randrange(0, 270))
        task = ReformTask(
            code=f"2024-{i:05d}", title=f"第{i}项改革任务：深化改革、清单管理、专班推进",
            lead_unit=unit, co_units=self.rng.sample(UNITS, 2), official=f"领导{i % 40}",
            group=f"专责小组{i % 9}", area=f"领域{i % 6}", deadline=deadline,
            deadline_text=f"{deadline.year}年{deadline.month}月底",
            milestones=[{"name": "方案制定", "due": deadline - dt.timedelta(days=60)}],
            notes="", actor=OFFICE, at=self.now(),
        )  # fmt: skip
        task.claim(f"liaison:{unit}/联络员", self.now())
        self.pending += task.collect_events()
        return task

    def emit(self, count: int, among: int | None = None) -> None:
        """Write `count` more events on random open tasks (of the first `among`)."""
        target = len(self.pending) + count
        pool = [t for t in self.tasks if not t.is_closed][: among or len(self.tasks)]
        while len(self.pending) < target:
            task = self.rng.choice(pool)
            if task.is_closed:
                pool.remove(task)
                continue
            self._act(task)
            self.pending += task.collect_events()
            if len(self.pending) >= 20_000:
                target -= len(self.pending)
                self._flush()
        self._flush()

    def _act(self, task: ReformTask) -> None:
        roll, at = self.rng.random(), self.now()
        actor = f"liaison:{task.lead_unit}/联络员"
        if task.pending_extension is not None and roll < 0.5:
            task.grant_extension("同意", OFFICE, at)
        elif task.status == TaskStatus.SUBMITTED and roll < 0.7:
            task.accept_completion("同意销号", OFFICE, at)
        elif task.status == TaskStatus.SUBMITTED:
            task.return_completion("补充材料", OFFICE, at)
        elif roll < 0.86:
            text = f"本周推进情况：完成第{task.reports + 1}项工作，下一步继续推进"
            task.report_progress(text, min(99, task.percent + 1), [], actor, at)
        elif roll < 0.92:
            rung = self.rng.choice(RUNGS)
            task.record_escalation(rung, "deadline", task.deadline or at.date(), "k", SYSTEM, at)
        elif roll < 0.95 and task.pending_extension is None and task.deadline is not None:
            task.request_extension(task.deadline + dt.timedelta(days=30), "用地未批", actor, at)
        elif roll < 0.96:
            task.recognise("exemplar", "municipal", "市级改革典型", OFFICE, at)
        elif roll < 0.97 and task.reports > 60:
            task.submit_completion("已完成", [], actor, at)
        else:
            task.report_progress("月度报送", task.percent, [], actor, at)

    def _flush(self) -> None:
        if self.pending:
            to_stored = self.ledger.mapper.to_stored_event
            self.ledger.recorder.insert_events([to_stored(e) for e in self.pending])
            self.pending = []

    def close(self) -> None:
        self.ledger.close()


def read_and_decode(ledger: Ledger, batch: int = runner.BATCH) -> int:
    """The floor: what the bare library costs to read and decode every event."""
    start, count = 0, 0
    to_event = ledger.mapper.to_domain_event
    while True:
        notifications = ledger.recorder.select_notifications(start, batch, inclusive_of_start=False)
        if not notifications:
            return count
        for n in notifications:
            to_event(n)
        count += len(notifications)
        start = notifications[-1].id


def cpu_rate(count: int, work: Callable[[], object]) -> float:
    """Items per CPU second of this process: other people's load on a shared 2-core machine
    stretches wall time, not this. (The work is single-threaded and SQLite runs in-process.)"""
    start = time.process_time()
    work()
    return count / (time.process_time() - start)


def child_rebuild(path: str) -> None:
    """Run in a fresh process: the floor (before and after, averaged) and the board rebuild
    under the same conditions; print their rates and the process's peak RSS."""
    ledger = open_ledger(f"sqlite:///{path}")
    board = open_board(ledger.recorder.datastore)  # type: ignore[attr-defined]
    events = ledger.recorder.max_notification_id() or 0
    figures: dict[str, float] = {}
    for suffix, measure in (("", rate), ("_cpu", cpu_rate)):
        before = measure(events, lambda: read_and_decode(ledger))
        figures[f"rebuild{suffix}"] = measure(
            events, lambda: runner.rebuild(ledger, board.projection)
        )
        after = measure(events, lambda: read_and_decode(ledger))
        figures[f"floor{suffix}"] = (before + after) / 2
    print(json.dumps({**figures, "rss_mb": peak_rss_mb()}))


def _rebuild_in_child(path: Path) -> dict[str, float]:
    code = f"from bench.bench_board import child_rebuild; child_rebuild({str(path)!r})"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _catch_up_ms(history: History, path: Path, rounds: int = 5) -> tuple[float, float]:
    """Median cost (wall ms, CPU ms) of catching the board up on 1,000 new events, from a
    cold start."""
    samples, cpu = [], []
    for _ in range(rounds):
        history.emit(1000, among=500)
        ledger = open_ledger(f"sqlite:///{path}")
        board = open_board(ledger.recorder.datastore)  # type: ignore[attr-defined]
        began, began_cpu = time.perf_counter(), time.process_time()
        runner.catch_up(ledger, board.projection)
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        ledger.close()
    return statistics.median(samples), statistics.median(cpu)


def run(quick: bool) -> list[Figure]:
    tasks, events = (1_000, 20_000) if quick else (10_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        big_path, small_path = Path(tmp) / "big.db", Path(tmp) / "small.db"
        began = time.perf_counter()
        big = History(big_path, tasks)
        big.emit(events - 2 * tasks)
        generated = events / (time.perf_counter() - began)
        small = History(small_path, 2_000 if not quick else 500, seed=8)
        small.emit(10_000 - 2 * len(small.tasks))
        return _measure(big, big_path, small, small_path, generated, events)


def _measure(
    big: History, big_path: Path, small: History, small_path: Path, generated: float, events: int
) -> list[Figure]:
    def fig(name: str, value: float, unit: str, base: str = "", base_value: float | None = None,
            higher: bool = True) -> Figure:  # fmt: skip
        return Figure(NAME, name, value, unit, base, base_value, higher)

    child = _rebuild_in_child(big_path)
    for history in (small, big):  # both boards current before the catch-up figures
        board = open_board(history.ledger.recorder.datastore)  # type: ignore[attr-defined]
        runner.catch_up(history.ledger, board.projection)
    small_ms, small_cpu = _catch_up_ms(small, small_path)
    big_ms, big_cpu = _catch_up_ms(big, big_path)
    query_ms, rows = _query_ms(big)
    chain = open_chain(big.ledger.recorder.datastore)  # type: ignore[attr-defined]
    chain_rate = rate(events, lambda: runner.rebuild(big.ledger, chain))
    verify_rate = rate(events, chain.verify)
    big.close()
    small.close()
    n = f"{events // 1000}k"
    floor, floor_cpu = child["floor"], child["floor_cpu"]
    return [
        fig(f"history written ({n} events)", generated, "ev/s"),
        fig("read+decode: library floor (wall)", floor, "ev/s"),
        fig("board rebuild (wall)", child["rebuild"], "ev/s", "library floor (wall)", floor),
        fig("read+decode: library floor (CPU)", floor_cpu, "ev/s"),
        fig("board rebuild (CPU)", child["rebuild_cpu"], "ev/s", "library floor (CPU)", floor_cpu),
        fig("board rebuild peak RSS", child["rss_mb"], "MB", "target", 500.0, higher=False),
        fig(f"catch-up 1000 ev @ {n} hist (wall)", big_ms, "ms", "@ 10k history (wall)", small_ms,
            higher=False),
        fig(f"catch-up 1000 ev @ {n} hist (CPU)", big_cpu, "ms", "@ 10k history (CPU)", small_cpu,
            higher=False),
        fig(f"board query, lights for {rows} tasks", query_ms, "ms"),
        fig("chain rebuild (wall)", chain_rate, "ev/s", "library floor (wall)", floor),
        fig("chain verify, raw rows (wall)", verify_rate, "ev/s", "library floor (wall)", floor),
    ]  # fmt: skip


def _query_ms(history: History) -> tuple[float, int]:
    board = open_board(history.ledger.recorder.datastore)  # type: ignore[attr-defined]
    board.rows(dt.date(2024, 7, 1))  # the calendar's year tables, once
    began = time.perf_counter()
    rows = board.rows(dt.date(2024, 7, 1))
    return (time.perf_counter() - began) * 1000, len(rows)
