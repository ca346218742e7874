"""The rate limiter holds across processes: SQLite for real, PostgreSQL when a server is given."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from notifiers import RateLimiter

LIMITS = ((5, 0.3),)  # DingTalk's shape (n per window), shrunk so the test runs in a second


def _hammer(
    path: str, robot: str, limits: Sequence[tuple[int, float]], seconds: float
) -> list[float]:
    """Ask for sends as fast as possible; return the `now` of every granted one."""
    granted: list[float] = []
    with RateLimiter.sqlite(path) as limiter:
        end = time.time() + seconds
        while (now := time.time()) < end:
            if limiter.acquire(robot, limits, now) == 0.0:
                granted.append(now)
    return granted


def _worst_window(times: list[float], window: float) -> int:
    """The most sends found in any window (t - window, t] ending at a send."""
    ordered = sorted(times)
    return max((sum(1 for s in ordered if t - window < s <= t) for t in ordered), default=0)


def test_two_processes_sharing_one_file_never_exceed_the_limit_together(tmp_path: Path) -> None:
    path = str(tmp_path / "sends.db")  # a new file: creating the tables is part of the race
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_hammer, [(path, "robot-a", LIMITS, 1.0)] * 2)
    combined = [t for result in results for t in result]
    count, window = LIMITS[0]
    assert all(results), "both processes got to send"
    assert _worst_window(combined, window) <= count
    # And the limiter was the constraint, not slowness: the windows were filled.
    assert len(combined) >= count * 2


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


@pytest.mark.postgres
def test_postgres_limiter_is_shared_between_connections() -> None:
    dsn = os.environ.get("DUBAN_TEST_PG_DSN")
    if not dsn:
        pytest.skip("DUBAN_TEST_PG_DSN is not set")
    robot = f"test-{uuid.uuid4().hex[:12]}"
    t0 = 1_717_203_600.0
    with RateLimiter.postgres(dsn) as first, RateLimiter.postgres(dsn) as second:
        assert first.acquire(robot, [(2, 60.0)], t0) == 0.0
        assert second.acquire(robot, [(2, 60.0)], t0 + 1) == 0.0
        assert first.acquire(robot, [(2, 60.0)], t0 + 2) == pytest.approx(58.0)
        assert second.acquire(robot, [(2, 60.0)], t0 + 2, cost=1) == pytest.approx(58.0)
        second.block(robot, t0 + 600)
        second.block(robot, t0 + 300)  # never shortens
        assert first.acquire(robot, [(2, 60.0)], t0 + 100) == pytest.approx(500.0)
        assert first.acquire(robot, [(2, 60.0)], t0 + 600) == 0.0


def _hammer_pg(
    dsn: str, robot: str, limits: Sequence[tuple[int, float]], seconds: float
) -> list[float]:
    granted: list[float] = []
    with RateLimiter.postgres(dsn) as limiter:
        end = time.time() + seconds
        while (now := time.time()) < end:
            if limiter.acquire(robot, limits, now) == 0.0:
                granted.append(now)
    return granted


@pytest.mark.postgres
def test_two_processes_sharing_postgres_never_exceed_the_limit_together() -> None:
    dsn = os.environ.get("DUBAN_TEST_PG_DSN")
    if not dsn:
        pytest.skip("DUBAN_TEST_PG_DSN is not set")
    robot = f"test-{uuid.uuid4().hex[:12]}"
    RateLimiter.postgres(dsn).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_hammer_pg, [(dsn, robot, LIMITS, 1.0)] * 2)
    combined = [t for result in results for t in result]
    assert all(results)
    assert _worst_window(combined, LIMITS[0][1]) <= LIMITS[0][0]
    assert len(combined) >= LIMITS[0][0] * 2
