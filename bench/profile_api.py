"""Where a progress report's time goes: `python -m bench.profile_api --store sqlite|postgres`.

On a fresh store with 50 claimed tasks (as `bench.bench_api`): **e2e**, a real `duban serve`
and a closed loop of `--clients` callers POSTing `/api/v1/tasks/{code}/reports`, no profiler
(req/s, p50, p99); **api**, the same app under uvicorn in this process, the load from a child
process (not sharing this GIL), one caller at a time so that the rows are one request's wall
time — cProfile on the event-loop thread (self time by package) and, per call, in the worker
threads running the dependencies and the endpoint (`anyio.to_thread.run_sync` is wrapped);
**ledger**, `Ledger.report` in process, profiled. Nested rows are part of the row above them.
`--only PART` runs one part; `--top N` prints the N functions with most cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import uvicorn
from eventsourcing.application import Repository

from bench import bench_api, bench_ledger
from duban.api import create_app
from duban.api.workers import Workers
from duban.app.services import open_ledger
from duban.bootstrap import bootstrap
from duban.cli.http_server import uvicorn_config
from duban.settings.logs import configure_logging
from tests.support.api import write_config
from tests.support.pg import start_server
from tests.support.server import duban, start_serve


async def closed_loop(url: str, token: str, clients: int, requests: int) -> dict[str, float]:
    """`clients` callers, each sending its next report once the last is answered (the raw
    keep-alive client of `bench.bench_api`: httpx would cost more CPU than the server)."""
    result = await bench_api.closed_loop(url, token, clients, requests)
    return {"rate": result.throughput, "p50": statistics.median(result.latencies_ms),
            "p99": result.percentile(0.99), "failed": result.sent - result.ok}  # fmt: skip


def load_in_child(url: str, token: str, clients: int, requests: int) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.profile_api", "--load", url, token]
    command += ["--clients", str(clients), "--requests", str(requests)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    result: dict[str, float] = json.loads(done.stdout)
    return result


@contextlib.contextmanager
def store(kind: str) -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="duban-profile-") as tmp:
        if kind == "sqlite":
            yield f"sqlite:///{Path(tmp) / 'duban.db'}", Path(tmp)
            return
        pg = start_server()
        try:
            yield pg.create_database("profile_api"), Path(tmp)
        finally:
            pg.stop("immediate")


def prepared(url: str, workdir: Path) -> tuple[Path, str]:
    """A config on the store, `duban init` run, and an office token (what bench_api uses)."""
    config = write_config(workdir, url)
    duban(config, "init")
    issued = json.loads(duban(config, "token", "issue", "--role", "office", "--format", "json"))
    return config, str(issued["token"])


class ThreadProfiles:
    """One cProfile per worker thread, enabled only around the calls handed to
    `anyio.to_thread.run_sync` while `active` (and the seconds spent in them)."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.local = threading.local()
        self.active = False
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._original = anyio.to_thread.run_sync

    def _wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            if not self.active:
                return func(*args)
            profile: cProfile.Profile | None = getattr(self.local, "profile", None)
            if profile is None:
                profile = self.local.profile = cProfile.Profile()
                with self._lock:
                    self.profiles.append(profile)
            started = time.perf_counter()
            profile.enable()
            try:
                return func(*args)
            finally:
                profile.disable()
                with self._lock:
                    self.seconds += time.perf_counter() - started

        return run

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        original = self._original

        async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return await original(self._wrap(func), *args, **kwargs)

        workers_run = Workers.run

        async def run_on_workers(pool: Workers, func: Callable[..., Any], *args: Any) -> Any:
            return await workers_run(pool, self._wrap(func), *args)

        anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]
        Workers.run = run_on_workers  # type: ignore[method-assign,assignment]  # the report's short way
        try:
            yield
        finally:
            anyio.to_thread.run_sync = original
            Workers.run = workers_run  # type: ignore[method-assign]

    def stats(self) -> pstats.Stats:
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


@dataclass(frozen=True)
class Stage:
    label: str
    file: str  # a suffix of the function's file ("" with a function of `SPECIAL`)
    function: str  # the function's name (a method's bare name)
    depth: int = 0


_GET = Repository.get.__code__
WORKER_STAGES = (
    Stage("short way (`duban.api.fast_path._report`)", "api/fast_path.py", "_report", 1),
    Stage("TokenRegistry.identify", "app/access.py", "identify", 2),
    Stage("report endpoint (`duban.api.tasks.report`)", "api/tasks.py", "report", 2),
    Stage("Ledger._update (load, rule, save)", "app/ledger.py", "_update", 3),
    Stage("load task (_task_for)", "app/task_access.py", "_task_for", 4),
    Stage("save (Ledger/Application.save)", "", "<save>", 4),
    Stage("recorder insert_events", "", "insert_events", 5),
    Stage("success text (_report_said)", "app/task_commands.py", "_report_said", 3),
    Stage("notices step (queue_notices_now)", "app/notices.py", "queue_notices_now", 3),
    Stage("every aggregate load (Repository.get)", _GET.co_filename, _GET.co_name, 1),
    Stage("every SQL statement (sqlite3/psycopg execute)", "", "<execute>", 1),
)
LEDGER_STAGES = (
    Stage("Ledger.report", "app/ledger.py", "report"),
    Stage("Ledger._update", "app/ledger.py", "_update", 1),
    Stage("load task (_task_for)", "app/task_access.py", "_task_for", 2),
    Stage("domain rule (report_progress)", "domain/task.py", "report_progress", 2),
    Stage("save (Ledger/Application.save)", "", "<save>", 2),
    Stage("recorder insert_events", "", "insert_events", 3),
    Stage("every aggregate load (Repository.get)", _GET.co_filename, _GET.co_name, 0),
    Stage("every SQL statement (sqlite3/psycopg execute)", "", "<execute>", 0),
)
_EXECUTE = ("<method 'execute' of 'sqlite3.Cursor' objects>",
            "<method 'execute' of 'sqlite3.Connection' objects>")  # fmt: skip
_Key = tuple[str, int, str]
Row = tuple[str, float, float]


def _keys(table: dict[_Key, Any], stage: Stage) -> list[_Key]:
    if stage.function == "<execute>":
        return [k for k in table if k[2] in _EXECUTE
                or (k[0].endswith("psycopg/cursor.py") and k[2] == "execute")]  # fmt: skip
    if stage.function == "<save>":
        files = ("app/ledger_base.py", "eventsourcing/application.py")
        return [k for k in table if k[2] == "save" and k[0].endswith(files)]
    return [k for k in table if k[0].endswith(stage.file) and k[2] == stage.function]


def _matching(stats: Any, stage: Stage) -> tuple[float, int]:
    """Cumulative seconds and calls of the functions a stage names (summed over matches not
    called by another match, so wrappers and overrides count once)."""
    table: dict[_Key, Any] = stats.stats
    keys = _keys(table, stage)
    outer = [k for k in keys if not any(c in keys for c in table[k][4])]
    return sum(table[k][3] for k in outer), sum(table[k][1] for k in outer)


def _row(label: str, seconds: float, calls: float, count: int) -> str:
    return f"{label:<58} {1000 * seconds / count:8.3f} {calls / count:10.2f}"


def render(
    title: str, stats: Any, stages: tuple[Stage, ...], count: int, head: list[Row] | None = None
) -> str:
    lines = [title, f"{'stage':<58} {'ms/req':>8} {'calls/req':>10}", "-" * 78]
    lines += [_row(label, seconds, calls, count) for label, seconds, calls in head or []]
    for stage in stages:
        lines.append(_row("  " * stage.depth + stage.label, *_matching(stats, stage), count))
    return "\n".join(lines)


_PACKAGES = ("uvicorn", "h11", "starlette", "fastapi", "pydantic", "anyio", "asyncio", "duban")


def loop_breakdown(loop: cProfile.Profile) -> list[Row]:
    """The event-loop thread's busy time by package (self time; C functions apart), waiting
    for the network (epoll) left out."""
    by: dict[str, float] = {}
    table: dict[_Key, Any] = pstats.Stats(loop).stats  # type: ignore[attr-defined]
    for (file, _line, name), (_cc, _nc, own, _ct, _callers) in table.items():
        if "poll' of 'select.epoll" in name:
            continue
        part = next((p for p in _PACKAGES if f"/{p}/" in file), "other Python")
        part = "C functions (sockets, json, hashing …)" if file == "~" else part
        by[part] = by.get(part, 0.0) + own
    rows = [
        (f"  {name}", seconds, 0.0) for name, seconds in sorted(by.items(), key=lambda i: -i[1])
    ]
    return [("event-loop thread, busy (self time by package)", sum(by.values()), 0.0), *rows]


def top(stats: pstats.Stats, n: int) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(n)
    return out.getvalue()


def end_to_end(config: Path, token: str, workdir: Path, clients: int, requests: int) -> str:
    server = start_serve(config, workdir / "serve-logs", "--no-scheduler")
    try:
        bench_api.prepare_tasks(server.url, token)
        load_in_child(server.url, token, clients, max(50, requests // 10))  # warm up
        found = load_in_child(server.url, token, clients, requests)
    finally:
        server.stop()
    return (
        f"end to end (`duban serve`, {clients} clients, {requests} reports): "
        f"{found['rate']:.0f} req/s, p50 {found['p50']:.1f} ms, p99 {found['p99']:.1f} ms, "
        f"failed {found['failed']:.0f}"
    )


async def _serve_profiled(
    config: Path, token: str, requests: int
) -> tuple[cProfile.Profile, ThreadProfiles, float]:
    services = bootstrap(config)
    app = create_app(services)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, services.config.http))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    workers, loop = ThreadProfiles(), cProfile.Profile()
    try:
        with workers.installed():
            await asyncio.to_thread(bench_api.prepare_tasks, url, token)
            await asyncio.to_thread(load_in_child, url, token, 1, max(50, requests // 10))
            workers.active = True
            loop.enable()
            started = time.perf_counter()
            await asyncio.to_thread(load_in_child, url, token, 1, requests)
            elapsed = time.perf_counter() - started
            loop.disable()
            workers.active = False
    finally:
        server.should_exit = True
        await serving
        services.ledger.close()
    return loop, workers, elapsed


def api_profile(config: Path, token: str, requests: int, n_top: int) -> str:
    loop, workers, elapsed = asyncio.run(_serve_profiled(config, token, requests))
    stats = workers.stats()
    head = [*loop_breakdown(loop), ("worker threads (dependencies, endpoint)", workers.seconds, 0)]
    text = render(
        f"API POST report, in process, 1 client, {requests} requests "
        f"({requests / elapsed:.0f} req/s, {1000 * elapsed / requests:.2f} ms/req wall "
        "including the client)",
        stats, WORKER_STAGES, requests, head,
    )  # fmt: skip
    return text + ("\n" + top(stats, n_top) if n_top else "")


def ledger_profile(url: str, requests: int, n_top: int) -> str:
    ledger = open_ledger(url)
    try:
        report = bench_ledger.ledger_report(ledger)  # what bench_ledger measures
        for i in range(max(50, requests // 10)):
            report(i)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for i in range(requests):
            report(i)
        profile.disable()
        elapsed = time.perf_counter() - started
    finally:
        ledger.close()
    stats = pstats.Stats(profile)
    text = render(
        f"Ledger.report in process, {requests} commands ({requests / elapsed:.0f} cmd/s)",
        stats, LEDGER_STAGES, requests,
    )  # fmt: skip
    return text + ("\n" + top(stats, n_top) if n_top else "")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_api")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8, help="end-to-end callers")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    parser.add_argument("--only", choices=("e2e", "api", "ledger"), action="append")
    parser.add_argument("--load", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        url, token = args.load
        found = asyncio.run(closed_loop(url, token, args.clients, args.requests))
        print(json.dumps(found))
        return 0
    configure_logging("WARNING", json=True)  # as `duban serve` runs by default
    for part in args.only or list(PARTS):
        with store(args.store) as (url, workdir):
            print(f"\n[{args.store}] " + PARTS[part](url, workdir, args), flush=True)
    return 0


PARTS: dict[str, Callable[[str, Path, argparse.Namespace], str]] = {
    "e2e": lambda url, workdir, args: end_to_end(
        *prepared(url, workdir), workdir, args.clients, args.requests
    ),
    "api": lambda url, workdir, args: api_profile(*prepared(url, workdir), args.requests, args.top),
    "ledger": lambda url, _, args: ledger_profile(url, args.requests, args.top),
}


if __name__ == "__main__":
    raise SystemExit(main())
