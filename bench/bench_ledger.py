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
busy with something else slows all three alike. Quick: 300 operations each; full: 3000.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
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


def _figures(store: str, url: str, count: int) -> list[Figure]:
    found = rates(url, count)
    name = f"{store} Ledger.report commands/s"
    return [
        Figure("ledger", name, found["report"], "cmd/s", f"bare save ({store})", found["save"]),
        Figure("ledger", name, found["report"], "cmd/s",
               f"bare load+save x{TASKS} ({store})", found["load_save"]),
    ]  # fmt: skip


def run(quick: bool) -> list[Figure]:
    count = 300 if quick else 3000
    with tempfile.TemporaryDirectory(prefix="duban-bench-ledger-") as tmp:
        figures = _figures("sqlite", f"sqlite:///{Path(tmp) / 'ledger.db'}", count)
    pg = start_server()
    try:
        figures += _figures("postgres", pg.create_database("bench_ledger"), count)
    finally:
        pg.stop("immediate")
    return figures
