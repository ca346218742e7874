"""HTTP API: progress reports POSTed at rising rates to a real `duban serve`, SQLite and PostgreSQL.

For each store a fresh `duban serve` process gets a task list of claimed tasks; an open-loop
client sends `POST /api/v1/tasks/{code}/reports` at a fixed rate (spread over the tasks, as
many units would), then closed loops of 8 and of 32 concurrent clients find the saturation
throughput, and an open loop at half the higher saturated rate shows the tail (its p99 beside
its p50; the goal is at most 3x). Latency is measured from each request's scheduled send time,
so a server that falls behind shows it. Every throughput stands beside the bare library's save
rate on the same kind of store (one event per save, in process, no HTTP): the ratio is what
the API layer costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.harness import Figure
from duban.settings.store import store_env
from tests.support.api import row, write_config
from tests.support.pg import start_server
from tests.support.server import ServeProcess, duban, start_serve

TASKS = 50
IN_FLIGHT = 64


@dataclass(frozen=True)
class Sizes:
    rates: tuple[int, ...]
    seconds: float
    saturation_clients: tuple[int, ...]
    saturation_requests: int
    bare_saves: int


QUICK = Sizes(rates=(40,), seconds=2.0, saturation_clients=(8, 32), saturation_requests=400,
              bare_saves=300)  # fmt: skip
FULL = Sizes(rates=(50, 100, 200, 400), seconds=6.0, saturation_clients=(8, 32),
             saturation_requests=3000, bare_saves=3000)  # fmt: skip


@dataclass(frozen=True)
class Result:
    sent: int
    ok: int
    elapsed: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


# ---- the bare library ------------------------------------------------------------------------


class Counter(Aggregate):
    @event("Ticked")
    def tick(self) -> None:
        pass


def bare_save_rate(store_url: str, saves: int) -> tuple[float, float]:
    """Saves per second, and milliseconds per save, of one event per save on this store."""
    app: Application[object] = Application(
        env={**store_env(store_url), "AGGREGATE_CACHE_MAXSIZE": "0"}
    )
    counter = Counter()
    app.save(counter)
    start = time.perf_counter()
    for _ in range(saves):
        counter.tick()
        app.save(counter)
    elapsed = time.perf_counter() - start
    app.close()
    return saves / elapsed, 1000 * elapsed / saves


# ---- the service -----------------------------------------------------------------------------


@contextlib.contextmanager
def serving(store_url: str, workdir: Path) -> Iterator[tuple[ServeProcess, str]]:
    config = write_config(workdir, store_url)
    duban(config, "init")
    issued = json.loads(duban(config, "token", "issue", "--role", "office", "--format", "json"))
    server = start_serve(config, workdir / "logs", "--no-scheduler")
    try:
        _prepare_tasks(server, issued["token"])
        yield server, issued["token"]
    finally:
        server.stop()


def _prepare_tasks(server: ServeProcess, token: str) -> None:
    rows = [row(f"B-{i:03d}", deadline=None, milestones=[]) for i in range(TASKS)]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=60) as api:
        api.post("/tasks/import", json={"rows": rows}).raise_for_status()
        for i in range(TASKS):
            api.post(f"/tasks/B-{i:03d}/claim").raise_for_status()


# ---- the load --------------------------------------------------------------------------------


async def _send(client: httpx.AsyncClient, n: int) -> bool:
    body = {"text": f"第{n}次进展报送", "percent": n % 101}
    try:
        answer = await client.post(f"/tasks/B-{n % TASKS:03d}/reports", json=body)
    except httpx.TransportError:  # counted as failed, like any answer but 200
        return False
    return answer.status_code == 200


def _client(server: ServeProcess, token: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=60,
    )


async def open_loop(server: ServeProcess, token: str, rate: int, seconds: float) -> Result:
    """`rate` requests per second for `seconds`, each timed from its scheduled send time.

    At most `IN_FLIGHT` requests are outstanding: a request due while the server is behind
    waits for a free slot, and that wait counts in its latency. (Handing thousands of queued
    requests to httpx instead makes its connection pool, not the server, the bottleneck.)
    """
    count = int(rate * seconds)
    latencies: list[float] = []
    slots = asyncio.Semaphore(IN_FLIGHT)
    async with _client(server, token, IN_FLIGHT) as client:
        start = time.perf_counter()

        async def one(n: int) -> bool:
            scheduled = start + n / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            async with slots:
                ok = await _send(client, n)
            latencies.append(1000 * (time.perf_counter() - scheduled))
            return ok

        results = await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - start
    return Result(count, sum(results), elapsed, latencies)


async def closed_loop(server: ServeProcess, token: str, clients: int, requests: int) -> Result:
    """`clients` callers, each sending its next report as soon as the last is answered."""
    latencies: list[float] = []
    counter = iter(range(requests))
    async with _client(server, token, clients) as client:

        async def caller() -> int:
            ok = 0
            for n in counter:
                sent = time.perf_counter()
                ok += await _send(client, n)
                latencies.append(1000 * (time.perf_counter() - sent))
            return ok

        start = time.perf_counter()
        oks = await asyncio.gather(*(caller() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return Result(requests, sum(oks), elapsed, latencies)


# ---- figures ---------------------------------------------------------------------------------


def _figures(store: str, label: str, result: Result, bare: tuple[float, float]) -> list[Figure]:
    rate, per_save_ms = bare
    failed = result.sent - result.ok
    name, base = f"{store} {label}", f"bare save ({store})"
    return [
        Figure("api", f"{name} reports/s", result.throughput, "req/s", base, rate),
        Figure("api", f"{name} p50", statistics.median(result.latencies_ms), "ms",
               f"{base} ms/save", per_save_ms, higher_is_better=False),
        Figure("api", f"{name} p99", result.percentile(0.99), "ms",
               f"{base} ms/save", per_save_ms, higher_is_better=False),
        Figure("api", f"{name} failed", failed, "req", higher_is_better=False),
    ]  # fmt: skip


def _measure(
    store: str, bare_url: str, serve_url: str, workdir: Path, sizes: Sizes
) -> list[Figure]:
    bare = bare_save_rate(bare_url, sizes.bare_saves)
    figures: list[Figure] = []
    with serving(serve_url, workdir) as (server, token):
        for rate in sizes.rates:
            result = asyncio.run(open_loop(server, token, rate, sizes.seconds))
            figures += _figures(store, f"@{rate}/s", result, bare)
        saturated = 0.0
        for clients in sizes.saturation_clients:
            result = asyncio.run(closed_loop(server, token, clients, sizes.saturation_requests))
            figures += _figures(store, f"saturated x{clients}", result, bare)
            saturated = max(saturated, result.throughput)
        half = max(1, int(saturated / 2))
        result = asyncio.run(open_loop(server, token, half, sizes.seconds))
        figures += _figures(store, f"@{half}/s (half saturated)", result, bare)
        p50 = statistics.median(result.latencies_ms)
        figures.append(Figure("api", f"{store} @half saturated p99 vs p50", result.percentile(0.99),
                              "ms", "p50 at that rate", p50, higher_is_better=False))  # fmt: skip
    return figures


def run(quick: bool) -> list[Figure]:
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="duban-bench-api-") as tmp:
        lite, pgdir = Path(tmp) / "sqlite", Path(tmp) / "postgres"
        lite.mkdir()
        pgdir.mkdir()
        bare, served = f"sqlite:///{lite / 'bare.db'}", f"sqlite:///{lite / 'duban.db'}"
        figures = _measure("sqlite", bare, served, lite, sizes)
        pg = start_server()
        try:
            bare, served = pg.create_database("bench_bare"), pg.create_database("bench_api")
            figures += _measure("postgres", bare, served, pgdir, sizes)
        finally:
            pg.stop("immediate")
    return figures
