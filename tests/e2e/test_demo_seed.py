"""`duban demo seed` (what `make run` seeds): the sample list re-dated to this year and a simulated
quarter that leaves every state of the workspace in the store, seeded once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import office_today
from tests.support.server import REPO, duban

SAMPLE = REPO / "examples" / "tasks-2024.csv"
YEAR = office_today().year


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "examples" / "duban.toml", folder / "duban.toml")
    path = folder / "duban.toml"
    duban(path, "init")
    return path


@pytest.fixture(scope="module")
def seeded(config: Path) -> str:
    return duban(config, "demo", "seed", "--sample", str(SAMPLE), "--url", "http://demo.test")


def _board(config: Path) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in json.loads(duban(config, "board", "--format", "json"))}


def _head(config: Path) -> dict[str, Any]:
    head: dict[str, Any] = json.loads(duban(config, "audit", "head", "--format", "json"))
    return head


def test_the_list_is_this_years_and_the_progress_is_shown(seeded: str, config: Path) -> None:
    assert f"导入 {YEAR} 年改革要点任务清单：新增 35 项" in seeded
    assert "各牵头单位联络员签收任务" in seeded
    assert "演示数据已生成" in seeded
    board = _board(config)
    assert len(board) == 35
    assert all(code.startswith(f"{YEAR}-") for code in board)
    assert board[f"{YEAR}-01"]["deadline"] == f"{YEAR}-12-31"


def test_every_state_of_the_demo_is_on_the_board(seeded: str, config: Path) -> None:
    rows = list(_board(config).values())
    statuses = {r["status"] for r in rows}
    assert {"assigned", "claimed", "completed"} <= statuses
    assert any(r["pending_extension"] for r in rows)  # waiting in the office's queue
    assert any("办结申请被退回" in r["light_reasons"] for r in rows)
    assert {"red", "yellow"} <= {r["light"] for r in rows}
    assert any(r["escalation"] in ("supervise", "bulletin") for r in rows)  # from the sweep
    assert any(r["percent"] == 60 and r["reports"] == 2 for r in rows)


def test_reports_carry_a_real_pdf_and_a_png(seeded: str, config: Path) -> None:
    history = json.loads(duban(config, "task", "history", f"{YEAR}-01", "--format", "json"))
    files = [f for e in history for f in (e.get("data") or e).get("files") or ()]
    assert {f["type"] for f in files} >= {"application/pdf", "image/png"}
    assert "校验通过" in duban(config, "audit", "verify")  # every file re-hashed


def test_a_leading_officials_instruction_is_open(seeded: str, config: Path) -> None:
    assert "领衔领导对" in seeded
    assert "批示" in duban(config, "audit", "log", "--format", "table")


def test_links_sign_in_a_liaison_the_office_and_an_auditor(seeded: str) -> None:
    lines = [line for line in seeded.splitlines() if "/invite?t=" in line]
    assert [line.split()[0] for line in lines] == ["联络员", "改革办", "审计"]
    assert all("http://demo.test/invite?t=dbi_" in line for line in lines)


def test_a_second_seed_changes_nothing(seeded: str, config: Path) -> None:
    before = _head(config)
    again = duban(config, "demo", "seed", "--sample", str(SAMPLE), "--no-links")
    assert "演示数据已存在，未作改动" in again
    assert _head(config) == before
