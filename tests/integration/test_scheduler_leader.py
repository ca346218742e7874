"""Leader election on PostgreSQL: one leader per database, a dead leader is replaced.

In process: the advisory-lock election itself, and a leader stepping down when its lock
connection dies. As processes: two real `duban scheduler run` nodes on one PostgreSQL store,
the sweep, delivery and chain-head jobs scheduled every minute, the real jobs running. Each
node's structured log names every (job, fire time) it ran (``scheduler.job.started``); the
store shows the jobs' work. Node A leads and runs; node B, started second, runs nothing; A is
killed with SIGKILL; B takes over within a few leases and runs; no (job, fire time) ran on both
nodes. Waits are bounded, never measured.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from domain.reminder import ChatMessage
from duban.bootstrap import bootstrap
from duban.settings.config import parse_config
from duban.settings.store import postgres_conninfo
from scheduler.leader import AdvisoryLockLeadership

pytestmark = pytest.mark.postgres

LEASE = 2.0
EVERY_MINUTE = ("sweep", "deliver", "chain_head")
ONCE_A_YEAR = ("report_round", "monthly_report", "quarterly_report", "annual_assessment")
SCHEDULES = "\n".join(
    [f'{name} = "* * * * *"' for name in EVERY_MINUTE]
    + [f'{name} = "0 0 1 1 *"' for name in ONCE_A_YEAR]
)


# ---- two processes ---------------------------------------------------------------------------

CHANNELS = """
[[channels]]
name = "office"
platform = "console"

[[channels]]
name = "leaders"
platform = "console"
"""
MINUTE_AND_SLACK = 75.0  # the next every-minute fire time, plus start-up


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def duban(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "duban.cli", "--config", str(config), *args]


class Node:
    """One `duban scheduler run` process and its structured log."""

    def __init__(self, name: str, config: Path, logs: Path) -> None:
        self.log = logs / f"{name}.log"
        with self.log.open("w") as err:
            self.process = subprocess.Popen(
                duban(config, "--log-level", "INFO", "scheduler", "run", "--lease", str(LEASE)),
                stdout=subprocess.DEVNULL, stderr=err, text=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def entries(self) -> list[dict[str, object]]:
        """The JSON log lines so far (a line cut short by SIGKILL is left out)."""
        found: list[dict[str, object]] = []
        for line in self.log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                found.append(entry)
        return found

    def logged(self, event: str) -> bool:
        return any(entry.get("event") == event for entry in self.entries())

    def ran(self) -> list[tuple[str, dt.datetime]]:
        """(job, fire time) of every run this node started."""
        return [
            (str(entry["job"]), dt.datetime.fromisoformat(str(entry["scheduled_for"])))
            for entry in self.entries()
            if entry.get("event") == "scheduler.job.started"
        ]


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[Callable[[str], Node]]:
    config = tmp_path / "duban.toml"
    config.write_text(f'store = "{pg_url}"\n\n[schedules]\n{SCHEDULES}\n{CHANNELS}')
    init = subprocess.run(
        duban(config, "init"), check=False, capture_output=True, text=True, timeout=60
    )  # the store has events, so the chain head job has a head to post
    assert init.returncode == 0, init.stderr
    nodes: list[Node] = []

    def start(name: str) -> Node:
        node = Node(name, config, tmp_path)
        nodes.append(node)
        wait_for(
            lambda: node.logged("scheduler.started") or node.process.poll() is not None,
            60,
            f"{name} to start",
        )
        assert node.process.poll() is None, node.log.read_text()
        return node

    yield start
    for node in nodes:
        if node.process.poll() is None:
            node.process.kill()
        node.process.wait(timeout=30)


def queued_kinds(pg_url: str) -> list[str]:
    """What the real jobs queued in the store, as the application reads it."""
    channels = [
        {"name": "office", "platform": "console"},
        {"name": "leaders", "platform": "console"},
    ]
    services = bootstrap(parse_config({"store": pg_url, "channels": channels}))
    try:
        return [queued.kind for _, queued in services.ledger.events_of(ChatMessage.Queued)]
    finally:
        services.ledger.close()


@pytest.mark.slow
def test_one_node_runs_the_jobs_and_the_other_takes_over_when_it_dies(
    pg_url: str, cluster: Callable[[str], Node]
) -> None:
    a = cluster("a")
    wait_for(lambda: a.logged("scheduler.leader.acquired"), 10 * LEASE, "a to lead")
    b = cluster("b")

    wait_for(lambda: bool(a.ran()), MINUTE_AND_SLACK, "a to run its jobs")
    assert not b.logged("scheduler.leader.acquired")

    a.process.send_signal(signal.SIGKILL)
    a.process.wait(timeout=30)
    wait_for(lambda: b.logged("scheduler.leader.acquired"), 5 * LEASE, "b to take over")
    wait_for(lambda: bool(b.ran()), MINUTE_AND_SLACK, "b to run jobs")

    b.process.send_signal(signal.SIGTERM)
    assert b.process.wait(timeout=30) == 0
    assert b.logged("scheduler.leader.released")

    ran_by_a, ran_by_b = a.ran(), b.ran()
    assert {job for job, _ in ran_by_a + ran_by_b} <= set(EVERY_MINUTE)
    assert not set(ran_by_a) & set(ran_by_b), f"a fire time ran on both: {ran_by_a} {ran_by_b}"
    assert len(ran_by_b) == len(set(ran_by_b))
    assert max(at for _, at in ran_by_a) < min(at for _, at in ran_by_b)  # b never ran while a led
    assert not a.logged("scheduler.job.failed")
    assert not b.logged("scheduler.job.failed")
    assert "chain_head" in queued_kinds(pg_url)  # the real jobs did their work in the store


# ---- in process: the election itself ---------------------------------------------------------


def test_one_leader_per_database_and_a_standby_takes_over_on_release(pg_url: str) -> None:
    first = AdvisoryLockLeadership(postgres_conninfo(pg_url), lease=0.5)
    second = AdvisoryLockLeadership(postgres_conninfo(pg_url), lease=0.5)
    first.start()
    second.start()
    try:
        assert first.is_leader()
        assert not second.is_leader()
        first.stop()
        wait_for(second.is_leader, 10, "the standby to take over")
    finally:
        first.stop()
        second.stop()


def test_a_leader_whose_lock_connection_died_steps_down(pg_url: str) -> None:
    leader = AdvisoryLockLeadership(postgres_conninfo(pg_url), lease=60)  # no background retry
    standby = AdvisoryLockLeadership(postgres_conninfo(pg_url), lease=0.5)
    leader.start()
    standby.start()
    try:
        assert leader.is_leader()
        with psycopg.connect(postgres_conninfo(pg_url), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'duban-scheduler' AND pid IN"
                " (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
            )
        assert not leader.is_leader()  # checked before a run: the connection is gone
        wait_for(standby.is_leader, 10, "the standby to take over")
        assert not leader.is_leader()
    finally:
        leader.stop()
        standby.stop()
