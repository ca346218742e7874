"""Stored data keeps working: the golden store written by an earlier version of the code
(`tests/golden/make_golden.py`) opens with today's code, every projection rebuilds to what
that version showed, and the hash chain over its events verifies."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.golden.make_golden import AS_OF, HERE, STORE, write_config
from tests.support.cli_zygote import run_cli


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli([*args], env={**os.environ, "DUBAN_CONFIG": str(config)})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = tmp_path / "store.db"
    shutil.copyfile(STORE, store)
    path = tmp_path / "duban.toml"
    write_config(store, path)
    return path


def _shown(config: Path) -> dict[str, str]:
    outputs = {
        "board.json": _cli(config, "board", "--as-of", AS_OF, "--format", "json"),
        "audit.jsonl": _cli(config, "audit", "log", "--format", "jsonl"),
        "head.txt": _cli(config, "audit", "head"),
    }
    for name, done in outputs.items():
        assert done.returncode == 0, f"{name}: {done.stderr}"
    return {name: done.stdout for name, done in outputs.items()}


def _expected() -> dict[str, str]:
    return {name: (HERE / name).read_text(encoding="utf-8") for name in _names()}


def _names() -> tuple[str, ...]:
    return ("board.json", "audit.jsonl", "head.txt")


def test_the_golden_store_shows_what_it_showed_when_written(config: Path) -> None:
    assert _shown(config) == _expected()


def test_rebuild_all_gives_the_committed_board_audit_and_chain_head(config: Path) -> None:
    rebuilt = _cli(config, "rebuild", "all")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _shown(config) == _expected()
    verified = _cli(config, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_golden_store_holds_the_scripted_history(config: Path) -> None:
    """The store really holds each kind of event the restructure must keep reading."""
    types = {
        line.split('"type": "')[1].split('"')[0] for line in _expected()["audit.jsonl"].splitlines()
    }
    for kind in (
        "ReformTask.Assigned", "ReformTask.Claimed", "ReformTask.ProgressReported",
        "ReformTask.ExtensionRequested", "ReformTask.ExtensionGranted",
        "ReformTask.CompletionSubmitted", "ReformTask.CompletionAccepted",
        "Reminder.Issued", "ChatMessage.Queued", "ChatMessage.AttemptRecorded",
        "ChatMessage.Delivered", "AccessToken.Issued", "AccessToken.Revoked",
        "PlanReview.Submitted", "PlanReview.Approved",
    ):  # fmt: skip
        assert kind in types, kind
