"""Two CLI commands and a server open a NEW PostgreSQL store at the same moment, again and again.

Each round gets a fresh database (CREATE DATABASE on the test server), so every round races
the library's table creation and the views' (`CREATE TABLE IF NOT EXISTS` is not safe against
itself on PostgreSQL: `tuple concurrently updated`). Acceptance: 20 rounds never fail
(`DUBAN_RELIABILITY=full`); the bounded run does 5.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from duban.app.services import open_ledger
from tests.reliability.conftest import scale
from tests.support.api import write_config
from tests.support.pg import PgServer
from tests.support.server import DUBAN, serving_url, spawn_serve

pytestmark = pytest.mark.postgres

ROUNDS = scale(5, 20)
OPENERS = 6


def _cli(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(DUBAN), "--config", str(config), *args],
        cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=180)
    return process.returncode, out, err


def test_two_commands_and_a_server_open_a_new_postgresql_store_at_once(
    pg_server: PgServer, tmp_path: Path
) -> None:
    for n in range(ROUNDS):
        round_dir = tmp_path / f"round{n}"
        round_dir.mkdir()
        config = write_config(round_dir, pg_server.create_database(f"duban_open_{n}"))
        # All three start before any has opened the store (start-up takes about a second).
        serve = spawn_serve(config, round_dir / "serve")
        init = _cli(config, "init")
        board = _cli(config, "board", "--format", "json")
        try:
            for name, process in (("init", init), ("board", board)):
                code, out, err = _finished(process)
                assert code == 0, f"round {n}: duban {name} → {code}\n{err}"
                assert "Traceback" not in err, f"round {n}: duban {name}\n{err}"
            assert json.loads(out) == [], f"round {n}: a new store's board is empty"
            url = serving_url(serve, round_dir / "serve")
        finally:
            if serve.poll() is None:
                serve.terminate()
            serve.wait(30)
        assert serve.returncode == 0, (round_dir / "serve" / "serve.err").read_text()
        assert url.startswith("http://127.0.0.1:")


def test_ledgers_released_together_by_a_barrier_open_a_new_store(
    pg_server: PgServer,
) -> None:
    """The race made certain: six ledgers in one process wait at a barrier, then all create the
    library's tables (events, snapshots) at once. Without the schema lock nearly every round
    fails (`tuple concurrently updated`, duplicate key in `pg_type`)."""
    for n in range(ROUNDS):
        url = pg_server.create_database(f"duban_barrier_{n}")
        barrier = threading.Barrier(OPENERS)
        errors: list[BaseException] = []

        def open_one(url: str = url, barrier: threading.Barrier = barrier) -> None:
            barrier.wait(timeout=60)
            try:
                open_ledger(url).close()
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_one) for _ in range(OPENERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, f"round {n}: {errors!r}"
