"""HTTP API: progress reports POSTed at rising rates to a real `duban serve`, SQLite and PostgreSQL.

For each store a fresh `duban serve` process gets a task list of claimed tasks; an open-loop
client sends `POST /api/v1/tasks/{code}/reports` at a fixed rate (spread over the tasks, as
many units would), then closed loops of 8 and of 32 concurrent clients find the saturation
throughput, and an open loop at half the higher saturated rate shows the tail (its p99 beside
its p50; the goal is at most 3x), beside the same ratio of the bare library's saves sent at that
rate (the store's own tail on this machine). Latency is measured from each request's (or
save's) scheduled send time, so a server that falls behind shows it. Every throughput stands
beside the bare library's save rate on the same kind of store (one event per save, in process,
no HTTP): the ratio is what the API layer costs. The load generator's garbage collector is off
while it measures (`client_collector_off`), so its pauses are not counted as the server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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
        return percentile(self.latencies_ms, p)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


# ---- the bare library ------------------------------------------------------------------------


class Counter(Aggregate):
    @event("Ticked")
    def tick(self) -> None:
        pass


def _bare_counter(store_url: str) -> tuple[Application[object], Counter]:
    """The bare library on this store, and a saved counter to tick."""
    app: Application[object] = Application(
        env={**store_env(store_url), "AGGREGATE_CACHE_MAXSIZE": "0"}
    )
    counter = Counter()
    app.save(counter)
    return app, counter


def bare_save_rate(store_url: str, saves: int) -> tuple[float, float]:
    """Saves per second, and milliseconds per save, of one event per save on this store."""
    app, counter = _bare_counter(store_url)
    start = time.perf_counter()
    for _ in range(saves):
        counter.tick()
        app.save(counter)
    elapsed = time.perf_counter() - start
    app.close()
    return saves / elapsed, 1000 * elapsed / saves


def bare_save_tail(store_url: str, rate: int, seconds: float) -> tuple[float, float]:
    """p50 and p99 (ms) of the bare library's saves issued at `rate` per second for `seconds`,
    each timed from its scheduled time as `open_loop` times a request: the store's own tail."""
    app, counter = _bare_counter(store_url)
    latencies: list[float] = []
    start = time.perf_counter()
    for n in range(max(1, int(rate * seconds))):
        scheduled = start + n / rate
        time.sleep(max(0.0, scheduled - time.perf_counter()))
        counter.tick()
        app.save(counter)
        latencies.append(1000 * (time.perf_counter() - scheduled))
    app.close()
    return statistics.median(latencies), percentile(latencies, 0.99)


# ---- the service -----------------------------------------------------------------------------


@contextlib.contextmanager
def serving(store_url: str, workdir: Path) -> Iterator[tuple[ServeProcess, str]]:
    config = write_config(workdir, store_url)
    duban(config, "init")
    issued = json.loads(duban(config, "token", "issue", "--role", "office", "--format", "json"))
    server = start_serve(config, workdir / "logs", "--no-scheduler")
    try:
        prepare_tasks(server.url, issued["token"])
        yield server, issued["token"]
    finally:
        server.stop()


def prepare_tasks(url: str, token: str) -> None:
    """TASKS tasks imported and claimed through the API of the server at `url`."""
    rows = [row(f"B-{i:03d}", deadline=None, milestones=[]) for i in range(TASKS)]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=60) as api:
        api.post("/tasks/import", json={"rows": rows}).raise_for_status()
        for i in range(TASKS):
            api.post(f"/tasks/B-{i:03d}/claim").raise_for_status()


# ---- the load --------------------------------------------------------------------------------


@contextlib.contextmanager
def client_collector_off() -> Iterator[None]:
    """The load generator's garbage collector off while it measures: its own collections
    (tens of ms with thousands of requests in flight) delayed reading answers and were counted
    as the server's latency — with them, p99/p50 at half saturation was 3.4-6.0, without,
    2.2-2.4, same server, same minutes. The server's collector is untouched."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Connection:
    """One kept-alive HTTP/1.1 connection POSTing reports over raw asyncio streams.

    The load runs on the same two cores as the server, so its cost is the server's loss:
    httpx's asyncio client spent 3.8 ms of CPU per request with 8 connections and 9.4 ms with
    32 (more than the server's own 5 ms), which made the 32-client loop slower than the 8-client
    one. This costs ~0.1 ms per request, so the figures are the server's."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = (f"Host: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\n").encode()  # fmt: skip
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> int:
        """The answer's status; the connection is opened again after the server closed it."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
                     % (path.encode(), self.head, len(body), body))  # fmt: skip
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            fields = dict(line.lower().split(b":", 1) for line in head[1:] if b":" in line)
            await reader.readexactly(int(fields.get(b"content-length", b"0")))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if fields.get(b"connection", b"").strip() == b"close":
            self.close()
        return int(head[0].split(b" ", 2)[1])

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _send(connection: Connection, n: int) -> bool:
    body = json.dumps({"text": f"第{n}次进展报送", "percent": n % 101}).encode()
    try:
        status = await connection.post(f"/api/v1/tasks/B-{n % TASKS:03d}/reports", body)
    except (OSError, asyncio.IncompleteReadError):  # counted as failed, like any answer but 200
        return False
    return status == 200


async def open_loop(url: str, token: str, rate: int, seconds: float) -> Result:
    """`rate` requests per second for `seconds`, each timed from its scheduled send time.

    At most `IN_FLIGHT` requests are outstanding (one per connection): a request due while the
    server is behind waits for a free connection, and that wait counts in its latency.
    """
    count = int(rate * seconds)
    latencies: list[float] = []
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    connections = [Connection(url, token) for _ in range(IN_FLIGHT)]
    for connection in connections:
        idle.put_nowait(connection)
    start = time.perf_counter()

    async def one(n: int) -> bool:
        scheduled = start + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        connection = await idle.get()
        try:
            ok = await _send(connection, n)
        finally:
            idle.put_nowait(connection)
        latencies.append(1000 * (time.perf_counter() - scheduled))
        return ok

    try:
        results = await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        for connection in connections:
            connection.close()
    return Result(count, sum(results), time.perf_counter() - start, latencies)


async def closed_loop(url: str, token: str, clients: int, requests: int) -> Result:
    """`clients` callers, each on its connection, sending its next report once the last is
    answered."""
    latencies: list[float] = []
    counter = iter(range(requests))
    connections = [Connection(url, token) for _ in range(clients)]

    async def caller(connection: Connection) -> int:
        ok = 0
        for n in counter:
            sent = time.perf_counter()
            ok += await _send(connection, n)
            latencies.append(1000 * (time.perf_counter() - sent))
        return ok

    start = time.perf_counter()
    try:
        oks = await asyncio.gather(*(caller(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return Result(requests, sum(oks), time.perf_counter() - start, latencies)


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


def _cpu_seconds(pid: int) -> float:
    """CPU seconds a process has used (Linux `/proc`; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_figures(
    store: str, clients: int, used: tuple[float, float], pid: int, requests: int
) -> list[Figure]:
    """CPU per request of the server and of this load generator (same cores): the server's
    figure times the rate shows how close it is to one core (one process, one GIL); the
    client's shows that the load is not what limits it."""
    server = 1000 * (_cpu_seconds(pid) - used[0]) / requests
    client = 1000 * (time.process_time() - used[1]) / requests
    name = f"{store} saturated x{clients}"
    return [
        Figure("api", f"{name} server CPU/req", server, "ms", higher_is_better=False),
        Figure("api", f"{name} client CPU/req", client, "ms", higher_is_better=False),
    ]


def _measure(
    store: str, bare_url: str, serve_url: str, workdir: Path, sizes: Sizes
) -> list[Figure]:
    bare = bare_save_rate(bare_url, sizes.bare_saves)
    figures: list[Figure] = []
    with serving(serve_url, workdir) as (server, token):
        for rate in sizes.rates:
            with client_collector_off():
                result = asyncio.run(open_loop(server.url, token, rate, sizes.seconds))
            figures += _figures(store, f"@{rate}/s", result, bare)
        saturated = 0.0
        for clients in sizes.saturation_clients:
            used = _cpu_seconds(server.process.pid), time.process_time()
            with client_collector_off():
                result = asyncio.run(
                    closed_loop(server.url, token, clients, sizes.saturation_requests)
                )
            figures += _figures(store, f"saturated x{clients}", result, bare)
            figures += _cpu_figures(store, clients, used, server.process.pid, result.sent)
            saturated = max(saturated, result.throughput)
        half = max(1, int(saturated / 2))
        with client_collector_off():
            result = asyncio.run(open_loop(server.url, token, half, sizes.seconds))
        figures += _figures(store, f"@{half}/s (half saturated)", result, bare)
        p50 = statistics.median(result.latencies_ms)
        figures.append(Figure("api", f"{store} @half saturated p99 vs p50", result.percentile(0.99),
                              "ms", "p50 at that rate", p50, higher_is_better=False))  # fmt: skip
    bare_p50, bare_p99 = bare_save_tail(bare_url, half, sizes.seconds)  # the server has stopped
    figures.append(Figure("api", f"{store} bare save @{half}/s p99 vs p50", bare_p99, "ms",
                          "p50 at that rate", bare_p50, higher_is_better=False))  # fmt: skip
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
