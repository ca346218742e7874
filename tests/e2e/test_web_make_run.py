"""`make run` on a fresh directory: the whole service with the sample data, driven with its token.

Runs scripts/run.sh (what `make run` runs once the virtualenv exists) with the example config in
an empty directory, uses the printed office token to give a liaison a token, reports progress
as that liaison, sees it on the web board, stops it with Ctrl-C (SIGINT), and starts it again.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.pg import free_port
from tests.support.server import DUBAN, REPO, wait_until_serving

TOKEN = re.compile(r"dbn_[0-9a-f]{12}_[A-Za-z0-9_\-]+")


def _start(workdir: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DUBAN_BIN": str(DUBAN),
        "DUBAN_SAMPLE": str(REPO / "examples" / "tasks-2024.csv"),
        "DUBAN_PORT": str(port),
    }
    with (workdir / "run.out").open("ab") as out:
        process = subprocess.Popen(
            ["bash", str(REPO / "scripts" / "run.sh"), "duban.toml"],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_until_serving(f"http://127.0.0.1:{port}", process, workdir / "run.out")
    return process, (workdir / "run.out").read_text(encoding="utf-8")


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    return process.wait(30)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(REPO / "examples" / "duban.toml", tmp_path / "duban.toml")
    return tmp_path


def _api(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"})


def _liaison_reports(url: str, office: str) -> None:
    with _api(url, office) as api:
        assert api.get("/board").json()["count"] >= 30
        binding = {"role": "liaison", "unit": "县发展和改革局", "name": "张伟"}
        issued = api.post("/tokens", json=binding).json()
    with _api(url, issued["token"]) as liaison:
        assert liaison.post("/tasks/2024-01/claim").status_code == 200
        report = {"text": "重点项目谋划清单已印发", "percent": 55}
        assert liaison.post("/tasks/2024-01/reports", json=report).status_code == 200


def test_make_run_serves_the_sample_board_and_the_printed_token_reports(workdir: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process, printed = _start(workdir, port)
    try:
        assert f"{url}/" in printed
        office = TOKEN.findall(printed)[-1]
        _liaison_reports(url, office)
        board = httpx.get(f"{url}/", params={"unit": "县发展和改革局"}).text
        row = board[board.index('data-code="2024-01"') :].split("</tr>", 1)[0]
        assert "55%" in row
        assert "推进中" in row
        page = httpx.get(f"{url}/tasks/2024-01").text
        assert "报送进展" in page
        assert "重点项目谋划清单已印发" in page
    finally:
        code = _stop(process)
    assert code == 0
    assert "已停止（收到中断信号）" in (workdir / "run.out").read_text(encoding="utf-8")

    again, printed_again = _start(workdir, port)
    try:
        assert printed_again.count("已新增") == 1  # the sample was imported on the first start only
        with _api(url, office) as old:
            assert old.get("/me").status_code == 401  # the previous start's token is revoked
        with _api(url, TOKEN.findall(printed_again)[-1]) as api:
            assert api.get("/me").json()["role"] == "office"
            assert api.get("/tasks/2024-01").json()["percent"] == 55
    finally:
        assert _stop(again) == 0
