"""Leader election on PostgreSQL: one leader per database, a dead leader is replaced.

In process: the advisory-lock election itself, and a leader stepping down when its lock
connection dies. As processes: every job is scheduled every minute and replaced by a stand-in
(``$DUBAN_JOBS_MODULE``) that records each run as a row (job, minute, pid) in the database
itself. Node A leads and runs; node B, started second, runs nothing; A is killed with SIGKILL;
B takes over within a few leases and runs; no (job, minute) ran on both nodes. Waits are
bounded, never measured.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from duban.settings.store import postgres_conninfo
from scheduler.leader import AdvisoryLockLeadership
from scheduler.runner import JOBS_MODULE_ENV

pytestmark = pytest.mark.postgres

LEASE = 2.0
EVERY_MINUTE = "\n".join(
    f'{name} = "* * * * *"'
    for name in (
        "sweep",
        "deliver",
        "report_round",
        "monthly_report",
        "quarterly_report",
        "annual_assessment",
        "chain_head",
    )
)


# ---- two processes ---------------------------------------------------------------------------

STANDIN_JOBS = """
    import os

    import psycopg

    from duban.settings.store import postgres_conninfo


    def _recorder(name):
        def run(services, now):
            minute = now.replace(second=0, microsecond=0)
            with psycopg.connect(postgres_conninfo(services.config.store), autocommit=True) as c:
                c.execute(
                    "INSERT INTO scheduler_test_runs (job, minute, pid) VALUES (%s, %s, %s)",
                    (name, minute, os.getpid()),
                )

        return run


    JOBS = {name: _recorder(name) for name in JOB_NAMES}
"""
JOB_NAMES = ("sweep", "deliver", "chain_head")  # the rest are logged as missing
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


class Node:
    """One `duban scheduler run` process and its structured log."""

    def __init__(self, name: str, config: Path, env: dict[str, str], logs: Path) -> None:
        self.log = logs / f"{name}.log"
        with self.log.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "duban.cli", "--config", str(config), "--log-level", "INFO",
                 "scheduler", "run", "--lease", str(LEASE)],
                stdout=subprocess.DEVNULL, stderr=err, env=env, text=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def logged(self, event: str) -> bool:
        return f'"event": "{event}"' in self.log.read_text()


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[Callable[[str], Node]]:
    config = tmp_path / "duban.toml"
    config.write_text(f'store = "{pg_url}"\n\n[schedules]\n{EVERY_MINUTE}\n{CHANNELS}')
    (tmp_path / "standin_jobs.py").write_text(
        textwrap.dedent(STANDIN_JOBS).replace("JOB_NAMES", repr(JOB_NAMES))
    )
    env = {**os.environ, JOBS_MODULE_ENV: "standin_jobs", "PYTHONPATH": str(tmp_path)}
    with psycopg.connect(postgres_conninfo(pg_url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE scheduler_test_runs (job text, minute timestamptz, pid int,"
            " at timestamptz DEFAULT clock_timestamp())"
        )
    nodes: list[Node] = []

    def start(name: str) -> Node:
        node = Node(name, config, env, tmp_path)
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


def runs(pg_url: str) -> list[tuple[str, object, int]]:
    with psycopg.connect(postgres_conninfo(pg_url)) as conn:
        rows = conn.execute(
            "SELECT job, minute, pid FROM scheduler_test_runs ORDER BY at"
        ).fetchall()
    return [(str(job), minute, int(pid)) for job, minute, pid in rows]


def pids_that_ran(pg_url: str) -> set[int]:
    return {pid for _, _, pid in runs(pg_url)}


@pytest.mark.slow
def test_one_node_runs_the_jobs_and_the_other_takes_over_when_it_dies(
    pg_url: str, cluster: Callable[[str], Node]
) -> None:
    a = cluster("a")
    wait_for(lambda: a.logged("scheduler.leader.acquired"), 10 * LEASE, "a to lead")
    b = cluster("b")

    wait_for(lambda: a.pid in pids_that_ran(pg_url), MINUTE_AND_SLACK, "a to run its jobs")
    assert not b.logged("scheduler.leader.acquired")

    a.process.send_signal(signal.SIGKILL)
    a.process.wait(timeout=30)
    wait_for(lambda: b.logged("scheduler.leader.acquired"), 5 * LEASE, "b to take over")
    wait_for(lambda: b.pid in pids_that_ran(pg_url), MINUTE_AND_SLACK, "b to run jobs")

    b.process.send_signal(signal.SIGTERM)
    assert b.process.wait(timeout=30) == 0
    assert b.logged("scheduler.leader.released")

    recorded = runs(pg_url)
    assert {pid for _, _, pid in recorded} == {a.pid, b.pid}
    instants = [(job, minute) for job, minute, _ in recorded]
    assert len(instants) == len(set(instants)), f"a fire time ran twice: {recorded}"
    last_of_a = max(m for _, m, pid in recorded if pid == a.pid)
    first_of_b = min(m for _, m, pid in recorded if pid == b.pid)
    assert last_of_a < first_of_b  # b never ran while a led


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
