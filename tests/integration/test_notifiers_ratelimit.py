"""The rate limiter holds across processes: SQLite for real, PostgreSQL when a server is given."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from notifiers import Limits, RateLimiter

LIMITS: Limits = ((5, 0.3),)  # DingTalk's shape (n per window), shrunk to run in a second


class Hammered(NamedTuple):
    granted: list[float]  # the `now` of every send the limiter allowed
    first: float  # when this process started asking
    last: float  # when it last asked


def _hammer_with(limiter: RateLimiter, robot: str, seconds: float) -> Hammered:
    """Ask for sends as fast as possible (harsher than a real caller, which waits)."""
    granted: list[float] = []
    first = now = time.time()
    while now < first + seconds:
        if limiter.acquire(robot, LIMITS, now) == 0.0:
            granted.append(now)
        now = time.time()
    return Hammered(granted, first, now)


def _hammer_sqlite(path: str, robot: str, start: Any, out: Any) -> None:
    with RateLimiter.sqlite(path) as limiter:
        start.wait(timeout=30)  # both processes are up and connected: now compete
        out.put(_hammer_with(limiter, robot, 1.0))


def _hammer_postgres(dsn: str, robot: str, start: Any, out: Any) -> None:
    with RateLimiter.postgres(dsn) as limiter:
        start.wait(timeout=30)
        out.put(_hammer_with(limiter, robot, 1.0))


def _race(target: Callable[..., None], where: str, robot: str) -> list[Hammered]:
    """Two processes hammering one robot's limit at the same time; what each was granted."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=target, args=(where, robot, start, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join()
    assert [w.exitcode for w in workers] == [0, 0]
    return results


def _worst_window(times: list[float], window: float) -> int:
    """The most sends found in any window (t - window, t] ending at a send."""
    ordered = sorted(times)
    return max((sum(1 for s in ordered if t - window < s <= t) for t in ordered), default=0)


def _check_combined(results: list[Hammered]) -> None:
    # The processes really competed: their asking overlapped in time (the barrier sees to it).
    # Which of them wins the freed slots is not fair, and need not be: the combined rate is
    # what the platform counts.
    assert max(r.first for r in results) < min(r.last for r in results)
    combined = [t for r in results for t in r.granted]
    count, window = LIMITS[0]
    assert _worst_window(combined, window) <= count
    # And the limiter was the constraint, not slowness: windows were filled again and again.
    assert len(combined) >= count * 2


def test_two_processes_sharing_one_file_never_exceed_the_limit_together(tmp_path: Path) -> None:
    path = str(tmp_path / "sends.db")  # a new file: creating the tables is part of the race
    _check_combined(_race(_hammer_sqlite, path, "robot-a"))


def _open_and_send(path: str) -> float:
    with RateLimiter.sqlite(path) as limiter:
        return limiter.acquire("robot-a", [(100, 60.0)], 1_717_203_600.0)


def test_processes_opening_a_new_file_together_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        for round_ in range(40):
            path = str(tmp_path / f"sends-{round_}.db")
            assert pool.map(_open_and_send, [path] * 4) == [0.0] * 4


def test_worst_window_counts_what_it_should() -> None:
    # The checker itself: six sends inside 0.3 s is a violation it must see.
    assert _worst_window([0.0, 0.05, 0.1, 0.15, 0.2, 0.25], 0.3) == 6
    assert _worst_window([0.0, 0.3, 0.6], 0.3) == 1


def _postgres_dsn() -> str:
    dsn = os.environ.get("DUBAN_TEST_PG_DSN")
    if not dsn:
        pytest.skip("DUBAN_TEST_PG_DSN is not set")
    return dsn


@pytest.mark.postgres
def test_postgres_limiter_is_shared_between_connections() -> None:
    dsn = _postgres_dsn()
    robot = f"test-{uuid.uuid4().hex[:12]}"
    t0 = 1_717_203_600.0
    with RateLimiter.postgres(dsn) as first, RateLimiter.postgres(dsn) as second:
        assert first.acquire(robot, [(2, 60.0)], t0) == 0.0
        assert second.acquire(robot, [(2, 60.0)], t0 + 1) == 0.0
        assert first.acquire(robot, [(2, 60.0)], t0 + 2) == pytest.approx(58.0)
        assert second.acquire(robot, [(2, 60.0)], t0 + 2) == pytest.approx(58.0)
        second.block(robot, t0 + 600)
        second.block(robot, t0 + 300)  # never shortens
        assert first.acquire(robot, [(2, 60.0)], t0 + 100) == pytest.approx(500.0)
        assert first.acquire(robot, [(2, 60.0)], t0 + 600) == 0.0


@pytest.mark.postgres
def test_two_processes_sharing_postgres_never_exceed_the_limit_together() -> None:
    dsn = _postgres_dsn()
    robot = f"test-{uuid.uuid4().hex[:12]}"
    _check_combined(_race(_hammer_postgres, dsn, robot))
