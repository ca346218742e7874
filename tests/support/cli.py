"""What the end-to-end tests of the `duban` command share: the sample config on a fresh SQLite
file in a folder of its own, the real command run there, and the store's event count."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from tests.support.cli_zygote import run_cli

__all__ = ["EXAMPLES", "ROOT", "event_count", "run_duban", "sample_workdir"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
_SAMPLE_STORE = 'store = "sqlite:///var/duban.db"'


def sample_workdir(folder: Path) -> Path:
    """`folder` with examples/duban.toml as `duban.toml`, its store `folder/duban.db`."""
    config = (EXAMPLES / "duban.toml").read_text(encoding="utf-8")
    db = folder / "duban.db"
    (folder / "duban.toml").write_text(
        config.replace(_SAMPLE_STORE, f'store = "sqlite:///{db}"'), encoding="utf-8"
    )
    return folder


def run_duban(
    workdir: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`duban ARGS` in `workdir` on its `duban.toml` (`env`: extra variables, e.g. the clock)."""
    environ = {**os.environ, "DUBAN_CONFIG": str(workdir / "duban.toml"), **(env or {})}
    return run_cli([*args], env=environ, cwd=workdir)


def event_count(workdir: Path) -> int:
    """How many events the workdir's store holds."""
    with closing(sqlite3.connect(workdir / "duban.db")) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])
