"""Sliding-window arithmetic of the per-robot rate limiter on an SQLite file, time given by hand."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from notifiers import RateLimiter, fingerprint

ROBOT = fingerprint("https://oapi.dingtalk.com/robot/send?access_token=t")
T0 = 1_717_203_600.0


@pytest.fixture
def limiter(tmp_path: Path) -> Iterator[RateLimiter]:
    with RateLimiter.sqlite(tmp_path / "sends.db") as limiter:
        yield limiter


def test_sends_within_the_limit_go_at_once(limiter: RateLimiter) -> None:
    assert [limiter.acquire(ROBOT, [(3, 60.0)], T0 + i) for i in range(3)] == [0.0, 0.0, 0.0]


def test_one_over_the_limit_waits_until_the_oldest_send_leaves_the_window(
    limiter: RateLimiter,
) -> None:
    for i in range(3):
        limiter.acquire(ROBOT, [(3, 60.0)], T0 + i)
    assert limiter.acquire(ROBOT, [(3, 60.0)], T0 + 10) == pytest.approx(50.0)
    assert limiter.acquire(ROBOT, [(3, 60.0)], T0 + 60) == 0.0  # T0 has left the window


def test_a_refused_acquire_records_nothing(limiter: RateLimiter) -> None:
    for i in range(3):
        limiter.acquire(ROBOT, [(3, 60.0)], T0 + i)
    for _ in range(5):
        limiter.acquire(ROBOT, [(3, 60.0)], T0 + 10)
    # Had the refusals been recorded, the robot would still be full at T0 + 61.
    assert limiter.acquire(ROBOT, [(3, 60.0)], T0 + 61) == 0.0


def test_every_limit_must_hold(limiter: RateLimiter) -> None:
    feishu = [(90, 60.0), (4, 1.0)]
    assert all(limiter.acquire(ROBOT, feishu, T0 + i * 0.1) == 0.0 for i in range(4))
    assert limiter.acquire(ROBOT, feishu, T0 + 0.5) == pytest.approx(0.5)  # the 5-a-second window
    assert limiter.acquire(ROBOT, feishu, T0 + 1.0) == 0.0


def test_a_send_costing_two_requests_needs_two_free_slots(limiter: RateLimiter) -> None:
    limiter.acquire(ROBOT, [(3, 60.0)], T0)
    limiter.acquire(ROBOT, [(3, 60.0)], T0 + 1)
    assert limiter.acquire(ROBOT, [(3, 60.0)], T0 + 2, cost=2) == pytest.approx(58.0)
    assert limiter.acquire(ROBOT, [(3, 60.0)], T0 + 2, cost=1) == 0.0


def test_a_cost_above_a_limit_can_never_fit(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError):
        limiter.acquire(ROBOT, [(4, 1.0)], T0, cost=5)


def test_robots_do_not_share_their_windows(limiter: RateLimiter) -> None:
    other = fingerprint("https://oapi.dingtalk.com/robot/send?access_token=u")
    limiter.acquire(ROBOT, [(1, 60.0)], T0)
    assert limiter.acquire(ROBOT, [(1, 60.0)], T0 + 1) > 0
    assert limiter.acquire(other, [(1, 60.0)], T0 + 1) == 0.0


def test_a_platform_block_holds_until_it_ends(limiter: RateLimiter) -> None:
    limiter.block(ROBOT, T0 + 600)
    assert limiter.acquire(ROBOT, [(18, 60.0)], T0 + 100) == pytest.approx(500.0)
    limiter.block(ROBOT, T0 + 300)  # a shorter block does not shorten the longer one
    assert limiter.acquire(ROBOT, [(18, 60.0)], T0 + 400) == pytest.approx(200.0)
    assert limiter.acquire(ROBOT, [(18, 60.0)], T0 + 600) == 0.0


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with RateLimiter.sqlite(tmp_path / "sends.db") as first:
        first.acquire(ROBOT, [(1, 60.0)], T0)
        first.block("other-robot", T0 + 600)
    with RateLimiter.sqlite(tmp_path / "sends.db") as second:
        assert second.acquire(ROBOT, [(1, 60.0)], T0 + 1) == pytest.approx(59.0)
        assert second.acquire("other-robot", [(1, 60.0)], T0 + 1) == pytest.approx(599.0)


def test_old_rows_are_pruned(tmp_path: Path) -> None:
    with RateLimiter.sqlite(tmp_path / "sends.db") as limiter:
        for i in range(50):
            limiter.acquire(ROBOT, [(18, 60.0)], T0 + i * 10)
    with closing(sqlite3.connect(tmp_path / "sends.db")) as db:
        (rows,) = db.execute("SELECT count(*) FROM robot_sends").fetchone()
    assert rows <= 7  # only the last minute's sends are kept


def test_the_webhook_itself_is_refused_as_a_robot_name(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError):
        limiter.acquire("https://oapi.dingtalk.com/robot/send?access_token=t", [(1, 60.0)], T0)
