"""The ledger's command rate: progress reports through `Ledger.report`, beside the library.

On one SQLite file, and then on one PostgreSQL database, a ledger holding 50 claimed tasks takes
reports round-robin, in process, one command at a time (validate the command, load the task,
authorize the liaison, check the rule, save one event). Beside it, on the same store:

- the bare eventsourcing save rate: one aggregate, one event per save, never reloaded — what
  the library costs for a write, the floor under any command;
- the bare load-and-save rate: 50 aggregates round-robin, each reloaded from its events before
  its save, with the same history length the tasks reach — the library's cost for the shape of
  a command, so the ratio shows what the ledger's own layer (validation, domain rules,
  authorization, transcoding of richer events) adds.

The three are measured in turns (five rounds each, the median reported) so that a disk or CPU
busy with something else slows all three alike. Quick: 500 operations each; full: 3000.

Group commit: 32 threads each reporting on its own task through `Ledger.report` (group commit
on, as shipped), beside the bare one-save-per-report rate on the same store with 32 threads
(each saving its own aggregate, one event per save) and with one thread, and beside the same
32-thread ledger load with group commit off. Also in turns, the median of three rounds; with
group commit on, the process's CPU time per report too (all threads, user and system): once
batches amortise the commit, this is what bounds the rate (one core under the GIL).
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.harness import Figure
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from duban.settings.store import store_env
from tests.support.pg import start_server

TASKS = 50
UNIT = "县发展和改革局"
OFFICE = Identity("office", "改革办")
LIAISON = Identity("liaison", "张伟", unit=UNIT)


class Counter(Aggregate):
    @event("Ticked")
    def tick(self, text: str, percent: int) -> None:
        self.text, self.percent = text, percent


def _bare(store_url: str) -> Application[UUID]:
    """The plain library application on this store (no group commit: one save, one commit)."""
    app: Application[UUID] = Application(
        env={**store_env(store_url), "AGGREGATE_CACHE_MAXSIZE": "0"}
    )
    return app


Work = Callable[[int], None]
ROUNDS = 5


def _rate(work: Work, first: int, count: int) -> float:
    """Operations per second of `work(i)` for `count` values of i from `first`."""
    start = time.perf_counter()
    for i in range(first, first + count):
        work(i)
    return count / (time.perf_counter() - start)


def bare_save(app: Application[UUID]) -> Work:
    """One aggregate, one event per save, never reloaded."""
    counter = Counter()
    app.save(counter)

    def save(i: int) -> None:
        counter.tick(f"第{i}次", i % 101)
        app.save(counter)

    return save


def bare_load_save(app: Application[UUID]) -> Work:
    """Fifty aggregates round-robin, each reloaded from its events before its save."""
    ids = []
    for _ in range(TASKS):
        counter = Counter()
        app.save(counter)
        ids.append(counter.id)

    def load_and_save(i: int) -> None:
        counter: Counter = app.repository.get(ids[i % TASKS])
        counter.tick(f"第{i}次", i % 101)
        app.save(counter)

    return load_and_save


def ledger_report(ledger: Ledger) -> Work:
    """Fifty claimed tasks taking progress reports round-robin through `Ledger.report`."""
    rows = [
        cmd.AssignTask(code=f"2024-{i:03d}", title=f"第{i}项改革任务", lead_unit=UNIT)
        for i in range(TASKS)
    ]
    ledger.import_tasks(rows, OFFICE)
    for row in rows:
        ledger.claim(row.code, LIAISON)

    def report(i: int) -> None:
        command = cmd.ReportProgress(text=f"第{i}次进展报送：方案已起草", percent=i % 101)
        ledger.report(f"2024-{i % TASKS:03d}", command, LIAISON)

    return report


def rates(store_url: str, count: int) -> dict[str, float]:
    """The median rate of each kind over `ROUNDS` turns of `count // ROUNDS` operations."""
    at = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    bare, ledger = _bare(store_url), open_ledger(store_url, lambda: at)
    works = {
        "save": bare_save(bare),
        "load_save": bare_load_save(bare),
        "report": ledger_report(ledger),
    }
    found: dict[str, list[float]] = {name: [] for name in works}
    size = count // ROUNDS
    try:
        for turn in range(ROUNDS):
            for name, work in works.items():
                found[name].append(_rate(work, turn * size, size))
    finally:
        bare.close()
        ledger.close()
    return {name: statistics.median(values) for name, values in found.items()}


# ---- group commit: many threads at once -------------------------------------------------------

THREADS = 32
GC_ROUNDS = 3
Each = Callable[[int, int], None]  # (thread, i)


def _threaded_rate(each: Each, threads: int, per_thread: int, first: int) -> float:
    """Operations per second of `threads` threads each doing `each(thread, i)` `per_thread`
    times, all released at once."""
    start_line = threading.Barrier(threads + 1)

    def worker(t: int) -> None:
        start_line.wait()
        for i in range(first, first + per_thread):
            each(t, i)

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    start_line.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    return threads * per_thread / (time.perf_counter() - start)


def bare_save_each(app: Application[UUID], threads: int) -> Each:
    """Each thread its own aggregate, one event per save, never reloaded."""
    counters = [Counter() for _ in range(threads)]
    app.save(*counters)

    def save(t: int, i: int) -> None:
        counters[t].tick(f"第{i}次", i % 101)
        app.save(counters[t])

    return save


def ledger_report_each(ledger: Ledger, threads: int) -> Each:
    """Each thread reporting on its own claimed task through `Ledger.report`."""
    rows = [
        cmd.AssignTask(code=f"G-{t:03d}", title=f"第{t}项改革任务", lead_unit=UNIT)
        for t in range(threads)
    ]
    ledger.import_tasks(rows, OFFICE)
    for row in rows:
        ledger.claim(row.code, LIAISON)

    def report(t: int, i: int) -> None:
        command = cmd.ReportProgress(text=f"第{i}次进展报送：方案已起草", percent=i % 101)
        ledger.report(f"G-{t:03d}", command, LIAISON)

    return report


def group_rates(make_url: Callable[[str], str], per_thread: int) -> dict[str, float]:
    at = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    bare = _bare(make_url("gc_bare"))
    on = open_ledger(make_url("gc_on"), lambda: at)
    off = Ledger(env={**store_env(make_url("gc_off")), "GROUP_COMMIT": "n"}, clock=lambda: at)
    kinds: dict[str, tuple[Each, int]] = {
        "bare_1": (bare_save_each(bare, 1), 1),
        "bare_32": (bare_save_each(bare, THREADS), THREADS),
        "on_32": (ledger_report_each(on, THREADS), THREADS),
        "off_32": (ledger_report_each(off, THREADS), THREADS),
    }
    found: dict[str, list[float]] = {name: [] for name in [*kinds, "on_32_cpu_us"]}
    try:
        for turn in range(GC_ROUNDS):
            for name, (each, threads) in kinds.items():
                n = per_thread * THREADS // threads
                cpu = time.process_time()
                found[name].append(_threaded_rate(each, threads, n, turn * n))
                if name == "on_32":
                    cpu_us = (time.process_time() - cpu) * 1e6 / (threads * n)
                    found["on_32_cpu_us"].append(cpu_us)
    finally:
        for app in (bare, on, off):
            app.close()
    return {name: statistics.median(values) for name, values in found.items()}


def _group_figures(store: str, make_url: Callable[[str], str], per_thread: int) -> list[Figure]:
    found = group_rates(make_url, per_thread)
    name = f"{store} group commit x{THREADS} reports/s"
    return [
        Figure("ledger", name, found["on_32"], "cmd/s",
               f"bare save x{THREADS} threads ({store})", found["bare_32"]),
        Figure("ledger", name, found["on_32"], "cmd/s",
               f"bare save x1 thread ({store})", found["bare_1"]),
        Figure("ledger", name, found["on_32"], "cmd/s",
               f"Ledger.report x{THREADS}, no group ({store})", found["off_32"]),
        Figure("ledger", f"{store} group commit x{THREADS} CPU/report", found["on_32_cpu_us"],
               "us", higher_is_better=False),
    ]  # fmt: skip


def _figures(store: str, url: str, count: int) -> list[Figure]:
    found = rates(url, count)
    name = f"{store} Ledger.report commands/s"
    return [
        Figure("ledger", name, found["report"], "cmd/s", f"bare save ({store})", found["save"]),
        Figure("ledger", name, found["report"], "cmd/s",
               f"bare load+save x{TASKS} ({store})", found["load_save"]),
    ]  # fmt: skip


def run(quick: bool) -> list[Figure]:
    count, per_thread = (500, 20) if quick else (3000, 100)
    with tempfile.TemporaryDirectory(prefix="duban-bench-ledger-") as tmp:
        figures = _figures("sqlite", f"sqlite:///{Path(tmp) / 'ledger.db'}", count)
        figures += _group_figures("sqlite", lambda n: f"sqlite:///{Path(tmp) / n}.db", per_thread)
    pg = start_server()
    try:
        figures += _figures("postgres", pg.create_database("bench_ledger"), count)
        figures += _group_figures("postgres", pg.create_database, per_thread)
    finally:
        pg.stop("immediate")
    return figures
