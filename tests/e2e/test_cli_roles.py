"""Roles hold at the terminal too: operator commands refuse auditors and liaisons."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.cli_zygote import run_cli

ROOT = Path(__file__).resolve().parents[2]

OPERATOR_COMMANDS = [
    ["init"],
    ["import", str(ROOT / "examples/tasks-2024.csv")],
    ["sweep", "--dry-run"],
    ["deliver"],
    ["notify", "test", "office"],
    ["scheduler", "run"],
    ["scheduler", "preview", "--from", "2024-06-01", "--to", "2024-06-02"],
    ["token", "issue", "--role", "office"],
    ["rebuild", "all"],
]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("roles")
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path = folder / "duban.toml"
    path.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{folder}/d.db"), "utf-8")
    assert run(path, ["init"]).returncode == 0
    return path


def run(config: Path, args: list[str], *who: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_CONFIG": str(config)}
    return run_cli([*args, *who], env=env)


def events(config: Path) -> int:
    with closing(sqlite3.connect(config.parent / "d.db")) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


@pytest.mark.parametrize("args", OPERATOR_COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("who", ["auditor:县纪委监委", "liaison:县财政局/李娜"])
def test_operator_commands_refuse_other_roles_and_change_nothing(
    config: Path, args: list[str], who: str
) -> None:
    before = events(config)
    result = run(config, args, "--as", who)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "无权" in result.stderr or "只能查看" in result.stderr, result.stderr
    assert events(config) == before


def test_exit_codes_are_chosen_by_class_most_specific_first() -> None:
    from duban.cli.common import EXIT_CODES

    classes = [cls for cls, _, _ in EXIT_CODES]
    for i, later in enumerate(classes):
        assert not any(issubclass(later, earlier) for earlier in classes[:i]), later
