"""An error no command planned for: one Chinese line on stderr, the traceback in the log file.

Real failures of the environment, through the real `duban` command: a PostgreSQL store that
nothing listens on, a SQLite store that is not a database.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.api import write_config
from tests.support.server import DUBAN

EXIT_UNEXPECTED = 3
SECRET = "pw-never-shown-42"


def _run(
    config: Path, log: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DUBAN), "--config", str(config), *args],
        cwd=config.parent, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "DUBAN_ERROR_LOG": str(log), **(env or {})},
    )  # fmt: skip


def _assert_one_clean_line(done: subprocess.CompletedProcess[str], log: Path, error: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == EXIT_UNEXPECTED, done.stderr
    assert 1 <= len(lines) <= 2, done.stderr
    assert "Traceback" not in done.stderr
    assert re.search(r"[\u4e00-\u9fff]", lines[-1]), lines[-1]
    assert lines[-1] == f"出错了：{error}，详情已写入日志 {log.resolve()}"
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["error"] == error
    assert "Traceback" in records[-1]["exception"]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "errors.log"


# Port 1 (tcpmux) on loopback: nothing listens there, no port is taken to find it.
@pytest.mark.parametrize("args", [("init",)])
def test_a_postgresql_store_nobody_listens_on(tmp_path: Path, log: Path, args: tuple[str]) -> None:
    config = write_config(tmp_path, f"postgresql://duban:{SECRET}@127.0.0.1:1/duban")
    # eventsourcing retries a refused connection for POSTGRES_CONNECT_TIMEOUT (30 s by
    # default) before it gives up; the message is the same after 2 s.
    done = _run(config, log, *args, env={"POSTGRES_CONNECT_TIMEOUT": "2"})
    _assert_one_clean_line(done, log, "OperationalError")
    assert SECRET not in done.stderr
    assert SECRET not in log.read_text(encoding="utf-8")  # redacted like every log line


def test_a_sqlite_store_that_is_not_a_database(tmp_path: Path, log: Path) -> None:
    store = tmp_path / "var" / "duban.db"
    store.parent.mkdir()
    store.write_bytes(b"this is not an SQLite file, it was overwritten\n" * 200)
    config = write_config(tmp_path, f"sqlite:///{store}")
    done = _run(config, log, "board")
    assert done.returncode == EXIT_UNEXPECTED, done.stderr
    error = done.stderr.strip().splitlines()[-1].removeprefix("出错了：").split("，")[0]
    _assert_one_clean_line(done, log, error)


def test_errors_a_person_can_act_on_keep_their_own_line_and_code(tmp_path: Path, log: Path) -> None:
    """The catch-all is for the unexpected only: a refused command is still exit 1."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'duban.db'}")
    done = _run(config, log, "task", "show", "2099-99")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("错误："), done.stderr
    assert not log.exists()
