"""XLSX files that claim more than they hold: the real `duban import`, in a process that may
use no more than 1 GB of address space, refuses each with one clear Chinese line, exit code 1
(the CLI's code for a refused file), no traceback, no MemoryError, and not one stored byte
changed — on SQLite and PostgreSQL.

The bombs are corpus files (`corpus/import/`, written by `corpus/bombs.py`): before the
bounded reader, the dimension bomb ran out of memory walking its declared grid and the zip
bomb ran out of memory parsing its millions of cells.

(The API takes a task list as JSON rows only, `POST /api/v1/tasks/import`: it has no XLSX
upload to bomb.)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import CORPUS, EXAMPLES, REPO, example_config, fingerprint
from tests.support.pg import PgServer
from tests.support.server import duban

ADDRESS_SPACE = 1024 * 1024 * 1024
BOMBS = {
    "dimension-bomb": "表格超过 5000 行（第 1048576 行仍有内容）",
    "zip-bomb": "导入文件过大：解压后 40 MB，超过 32 MB",
}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _import_limited(config: Path, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duban.cli", "--config", str(config), "import", str(file)],
        capture_output=True, text=True, cwd=config.parent, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)}, preexec_fn=_limited,
    )  # fmt: skip


def _store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'duban.db'}"
    pg: PgServer = request.getfixturevalue("pg_server")
    return pg.create_database(f"duban_rel_bombs_{os.getpid()}")


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_duban_import_refuses_each_xlsx_bomb_within_1_gb(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _store(backend, tmp_path, request)
    config = example_config(tmp_path / "office", url)
    duban(config, "init")
    duban(config, "import", str(EXAMPLES / "tasks-2024.csv"))
    before = fingerprint(url)
    assert before.count > 35
    for name, message in BOMBS.items():
        bomb = CORPUS / "import" / f"{name}.xlsx"
        assert bomb.stat().st_size < 100 * 1024  # the bomb is small; what it claims is not
        done = _import_limited(config, bomb)
        assert done.returncode == 1, (name, done.stderr[-2000:])
        assert "MemoryError" not in done.stderr, name
        assert "Traceback" not in done.stderr, name
        assert f"{bomb.name} 文件：{message}" in done.stderr, (name, done.stderr)
        assert "1 处错误，未导入任何任务" in done.stderr, name
        assert fingerprint(url) == before, name  # nothing recorded


def test_the_limited_process_still_imports_a_real_workbook(tmp_path: Path) -> None:
    """The 1 GB cap is no handicap for an honest file: the sample workbook imports under it."""
    config = example_config(tmp_path / "office", f"sqlite:///{tmp_path / 'duban.db'}")
    duban(config, "init")
    done = _import_limited(config, EXAMPLES / "tasks-2024.xlsx")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "已新增 35" in done.stdout
