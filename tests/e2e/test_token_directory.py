"""The config's directory owns token bindings (issue 16 item 6), through the real CLI and a real
`duban serve`: no token for a unit or person the directory does not know, and after a unit is
removed from the config, `duban init` records the removal and revokes its tokens, and a server
restarted with the new config refuses them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from domain.token import token_aggregate_id
from tests.e2e.test_web_serve import _client, _issue
from tests.support.api import OTHER_UNIT, row, write_config
from tests.support.server import DUBAN, duban, start_serve

REMOVED = (
    f'[[units]]\nname = "{OTHER_UNIT}"\nchannel = "fgj"\n'
    'liaisons = [{ name = "赵磊", mobile = "13800000003" }]\n'
)


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DUBAN), "--config", str(config), *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "DUBAN_CONFIG": str(config)},
    )  # fmt: skip


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'duban.db'}")
    duban(path, "init")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("--role", "liaison", "--unit", "不存在的单位"),
        ("--role", "liaison", "--unit", OTHER_UNIT, "--name", "不在名录的人"),
        ("--role", "official", "--name", "不存在的领导"),
    ],
)
def test_token_issue_refuses_what_the_directory_does_not_know(
    config: Path, args: tuple[str, ...]
) -> None:
    done = _run(config, "token", "issue", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "不在名录中" in done.stderr
    assert done.stderr.count("\n") == 1  # one line, no traceback
    assert done.stdout == ""
    assert json.loads(duban(config, "token", "list", "--format", "json")) == []


def test_a_removed_units_token_is_revoked_by_init_and_refused_after_restart(
    config: Path, tmp_path: Path
) -> None:
    office = _issue(config, "--role", "office")
    auditor = _issue(config, "--role", "auditor")
    liaison = _issue(config, "--role", "liaison", "--unit", OTHER_UNIT, "--name", "赵磊")
    server = start_serve(config, tmp_path / "logs-1", "--no-scheduler")
    try:
        task = row("edu-1", lead_unit=OTHER_UNIT, co_units=[], official=None)
        with _client(server, office["token"]) as api:
            assert api.post("/tasks", json=task).status_code == 201
        with _client(server, liaison["token"]) as api:
            assert api.post("/tasks/edu-1/claim").status_code == 200
    finally:
        server.stop()

    text = config.read_text(encoding="utf-8")
    assert REMOVED in text
    config.write_text(text.replace(REMOVED, ""), encoding="utf-8")
    # One init records the unit's removal and the revocation of its liaison's token.
    assert duban(config, "init").strip() == "台账已就绪：本次登记名录变更 2 项"

    server = start_serve(config, tmp_path / "logs-2", "--no-scheduler")
    try:
        with _client(server, liaison["token"]) as api:
            report = api.post("/tasks/edu-1/reports", json={"text": "继续推进", "percent": 50})
            asked = {"new_deadline": "2024-09-30", "reason": "用地未批"}
            extension = api.post("/tasks/edu-1/extension/request", json=asked)
        with _client(server, auditor["token"]) as api:
            log = api.get("/audit").json()
            history = api.get("/tasks/edu-1/history").json()
    finally:
        server.stop()
    assert report.status_code == 401, report.text
    assert report.json()["message"] == f"单位「{OTHER_UNIT}」不在名录中，令牌已失效"
    assert extension.status_code == 401
    assert [e["type"] for e in history] == ["ReformTask.Assigned", "ReformTask.Claimed"]
    removed = [e for e in log if e["type"] == "Unit.Removed"]
    assert [e["data"]["name"] for e in removed] == [OTHER_UNIT]
    assert OTHER_UNIT in removed[0]["summary"]
    token = str(token_aggregate_id(liaison["token_id"]))
    revoked = [
        e for e in log if e["type"] == "AccessToken.Revoked" and e["data"]["originator_id"] == token
    ]
    assert len(revoked) == 1, [e["type"] for e in log]
    assert f"单位「{OTHER_UNIT}」不在名录中" in revoked[0]["data"]["reason"]
    assert revoked[0]["actor"] == "office:改革办"
    assert revoked[0]["at"] == removed[0]["at"]  # recorded by the same init, at the same time
    others = [
        e for e in log if e["type"] == "AccessToken.Revoked" and e["data"]["originator_id"] != token
    ]
    assert others == []  # the office's and the auditor's tokens keep working
