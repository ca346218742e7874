"""Backup while the service runs, restore on a new store, rebuild: the same board and chain.

The commands are the ones docs/operations.md gives: on SQLite the online backup API (what
`sqlite3 duban.db ".backup …"` does) or `VACUUM INTO`; on PostgreSQL `pg_dump -Fc` and
`pg_restore` from Debian's binaries beside `pg_ctl`. The restored store is opened by the real
`duban` CLI: `duban rebuild all`, then `duban board --format json` and `duban audit head` equal
the original's and `duban audit verify` passes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.conftest import (
    drive_lifecycle,
    duban_run,
    example_config,
    populate,
)
from tests.support.pg import PgServer, find_pg_bin
from tests.support.server import ServeProcess, start_serve


def _ok(config: Path, *args: str) -> str:
    done = duban_run(config, *args)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


Projections = tuple[list[dict[str, object]], dict[str, object]]


def _projections(config: Path) -> Projections:
    board = json.loads(_ok(config, "board", "--format", "json"))
    head = json.loads(_ok(config, "audit", "head", "--format", "json"))
    return board, head


def _run_service(config: Path, logs: Path, stopping: list[ServeProcess]) -> ServeProcess:
    tokens = populate(config)
    server = start_serve(config, logs, "--no-scheduler")
    stopping.append(server)
    assert drive_lifecycle(server, tokens) == 49
    return server


def _check_restored(expected: Projections, restored: Path) -> None:
    """`rebuild all` on the restored store, then its board and chain head (the original's)
    and its verification."""
    rebuilt = _ok(restored, "rebuild", "all")
    assert "board" in rebuilt
    assert "chain" in rebuilt
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.submit(_projections, restored)
        verified = pool.submit(duban_run, restored, "audit", "verify").result(timeout=300)
        assert found.result(timeout=300) == expected
    assert verified.returncode == 0, verified.stderr
    assert "校验通过" in verified.stdout


def _online_backup(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _vacuum_into(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src:
        src.execute("VACUUM INTO ?", (str(target),))


@dataclass
class Serving:
    config: Path
    db: Path
    server: ServeProcess
    projections: Projections  # the original's board and chain head, after the run


@pytest.fixture(scope="module")
def serving_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    """One `duban serve` on SQLite after a realistic run, for both ways of backing it up."""
    home = tmp_path_factory.mktemp("sqlite-office")
    db = home / "var" / "duban.db"
    config = example_config(home, f"sqlite:///{db}")
    started: list[ServeProcess] = []
    try:
        server = _run_service(config, home / "logs", started)
        yield Serving(config, db, server, _projections(config))
    finally:
        for server in started:
            server.stop()


@pytest.mark.parametrize("backup", [_online_backup, _vacuum_into], ids=["backup-api", "vacuum"])
def test_an_sqlite_backup_taken_while_serving_restores_to_the_same_projections(
    backup: Callable[[Path, Path], None], serving_sqlite: Serving, tmp_path: Path
) -> None:
    copy = tmp_path / "backup" / "duban-backup.db"
    copy.parent.mkdir()
    backup(serving_sqlite.db, copy)
    assert serving_sqlite.server.process.poll() is None  # taken while serving
    new_home = tmp_path / "new-machine" / "var" / "duban.db"
    new_home.parent.mkdir(parents=True)
    new_home.write_bytes(copy.read_bytes())
    restored = example_config(tmp_path / "new-machine", f"sqlite:///{new_home}")
    _check_restored(serving_sqlite.projections, restored)


@pytest.mark.postgres
def test_a_pg_dump_taken_while_serving_restores_to_the_same_projections(
    pg_server: PgServer, tmp_path: Path, stopping: list[ServeProcess]
) -> None:
    bin_dir = find_pg_bin()
    assert bin_dir is not None
    original = example_config(tmp_path / "office", pg_server.create_database("duban_rel_backup"))
    server = _run_service(original, tmp_path / "logs", stopping)
    env = {**os.environ, "PGPASSWORD": pg_server.password}
    common = ["-h", "127.0.0.1", "-p", str(pg_server.port), "-U", pg_server.user]
    dump = tmp_path / "duban.dump"
    subprocess.run(
        [str(bin_dir / "pg_dump"), *common, "-Fc", "-f", str(dump), "duban_rel_backup"],
        check=True, env=env, timeout=120, capture_output=True,
    )  # fmt: skip
    assert server.process.poll() is None  # taken while serving
    restored_url = pg_server.create_database("duban_rel_restored")
    subprocess.run(
        [str(bin_dir / "pg_restore"), *common, "--no-owner", "-d", "duban_rel_restored",
         str(dump)],
        check=True, env=env, timeout=120, capture_output=True,
    )  # fmt: skip
    restored = example_config(tmp_path / "new-machine", restored_url)
    _check_restored(_projections(original), restored)
