"""The rate limiter holds across processes: on an SQLite file and on PostgreSQL (the session's
real server, started by the `pg_url` fixture: never skipped).

The time is the limiter's `now` argument, from a clock the test drives: both processes step
through the same simulated ticks in lockstep (a barrier per tick) and, within each tick,
compete for the same robot at the same `now`. So what is granted is decided by the limiter's
lock alone, never by how fast the machine happens to be, and it can be compared with a replay
computed here by hand.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from notifiers import Limits, RateLimiter

LIMITS: Limits = ((5, 0.3),)  # DingTalk's shape (n per window), shrunk
T0 = 1_717_203_600.0
TICKS = 200
STEP = 0.007  # simulated seconds per tick: the 0.3 s window spans 42.86 ticks, never a whole
ASKS = 3  # requests per process per tick (harsher than a real caller, which waits)
PROCESSES = 2


def _hammer_with(limiter: RateLimiter, robot: str, ticks: Any) -> list[int]:
    """Every tick: wait for the other process, then ask ASKS times at that tick's `now`.
    The ticks at which sends were granted."""
    granted: list[int] = []
    for tick in range(TICKS):
        ticks.wait(timeout=60)
        for _ in range(ASKS):
            if limiter.acquire(robot, LIMITS, T0 + tick * STEP) == 0.0:
                granted.append(tick)
    return granted


def _hammer_sqlite(path: str, robot: str, ticks: Any, out: Any) -> None:
    with RateLimiter.sqlite(path) as limiter:
        out.put(_hammer_with(limiter, robot, ticks))


def _hammer_postgres(dsn: str, robot: str, ticks: Any, out: Any) -> None:
    with RateLimiter.postgres(dsn) as limiter:
        out.put(_hammer_with(limiter, robot, ticks))


def _race(target: Callable[..., None], where: str, robot: str) -> list[list[int]]:
    """Two processes hammering one robot's limit in lockstep; the ticks each was granted."""
    ctx = multiprocessing.get_context("spawn")
    ticks, out = ctx.Barrier(PROCESSES), ctx.Queue()
    workers = [
        ctx.Process(target=target, args=(where, robot, ticks, out)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    return results


def _replay() -> list[int]:
    """What a correct limiter grants for these asks, by hand: a send at tick t is granted if
    fewer than `count` sends were granted at ticks within the window (t - k) * STEP < window."""
    ((count, window),) = LIMITS
    span = int(window / STEP)  # 42: ticks t - 42 … t are inside the window, t - 43 is not
    granted: list[int] = []
    for tick in range(TICKS):
        for _ in range(ASKS * PROCESSES):
            if sum(1 for g in granted if tick - g <= span) < count:
                granted.append(tick)
    return granted


def _worst_window(times: list[float], window: float) -> int:
    """The most sends found in any window (t - window, t] ending at a send."""
    ordered = sorted(times)
    return max((sum(1 for s in ordered if t - window < s <= t) for t in ordered), default=0)


def _check_combined(results: list[list[int]]) -> None:
    # Which process wins the freed slots is not fair, and need not be: the combined rate is
    # what the platform counts.
    combined = sorted(t for ticks in results for t in ticks)
    count, window = LIMITS[0]
    assert _worst_window([T0 + t * STEP for t in combined], window) <= count
    # Exactly what a correct limiter grants, neither more (a race let one through) nor fewer
    # (a send recorded without being granted, or a refusal recorded).
    assert combined == _replay()
    assert len(combined) >= count * 4  # windows were filled again and again


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


def test_the_replay_grants_count_per_window() -> None:
    granted = _replay()
    assert granted[:5] == [0] * 5  # the first tick fills the window
    assert granted[5] == 43  # tick 0 leaves the window at tick 43
    assert _worst_window([T0 + t * STEP for t in granted], LIMITS[0][1]) == LIMITS[0][0]


@pytest.mark.postgres
def test_postgres_limiter_is_shared_between_connections(pg_url: str) -> None:
    dsn = pg_url
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
def test_two_processes_sharing_postgres_never_exceed_the_limit_together(pg_url: str) -> None:
    dsn = pg_url
    robot = f"test-{uuid.uuid4().hex[:12]}"
    _check_combined(_race(_hammer_postgres, dsn, robot))
