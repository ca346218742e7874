"""`make run` on a fresh directory: the whole service with the living demo, driven with its token.

Runs scripts/run.sh (what `make run` runs once the virtualenv exists) with the example config in
an empty directory: the demo (`duban demo seed`, the sample re-dated to this year) is seeded, the
printed links sign a liaison, the office and an auditor in; the printed office token gives a
liaison a token, who reports progress that the web board shows; Ctrl-C (SIGINT) stops it, and a
second start changes nothing of the demo and prints new links that work.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.clock import office_today
from tests.support.pg import free_port
from tests.support.server import DUBAN, REPO, wait_until_serving
from tests.support.signin import redeem

TOKEN = re.compile(r"dbn_[0-9a-f]{12}_[A-Za-z0-9_\-]+")
SIGNIN = re.compile(r"    (联络员|改革办|审计) \S+: (http://\S+/invite\?t=dbi_\S+)")
YEAR = office_today().year  # the demo's list is the sample re-dated to this year
TASK = f"{YEAR}-02"  # a task the demo leaves to the office (not claimed)


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
        binding = {"role": "liaison", "unit": "县商务局(招商服务中心)", "name": "刘洋"}
        issued = api.post("/tokens", json=binding).json()
    with _api(url, issued["token"]) as liaison:
        assert liaison.post(f"/tasks/{TASK}/claim").status_code == 200
        report = {"text": "重点项目谋划清单已印发", "percent": 55}
        assert liaison.post(f"/tasks/{TASK}/reports", json=report).status_code == 200


@contextmanager
def _signed_in(url: str, printed: str, who: str = "改革办") -> Iterator[httpx.Client]:
    """A client signed in with the last one-time link `make run` printed for `who` (its
    confirm page, then 确认登录)."""
    links = [link for label, link in SIGNIN.findall(printed) if label == who]
    assert links, printed
    with httpx.Client(base_url=url, timeout=30) as web:
        answer = redeem(web, links[-1])
        assert answer.status_code == 200, answer.text
        yield web


def test_make_run_serves_the_sample_board_and_the_printed_token_reports(workdir: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process, printed = _start(workdir, port)
    try:
        assert f"{url}/" in printed
        office = TOKEN.findall(printed)[-1]
        _liaison_reports(url, office)
        with _signed_in(url, printed) as web:
            board = web.get("/", params={"unit": "县商务局(招商服务中心)"}).text
            row = board[board.index(f'data-code="{TASK}"') :].split("</tr>", 1)[0]
            assert "55%" in row
            assert "推进中" in row
            page = web.get(f"/tasks/{TASK}").text
        assert "报送进展" in page
        assert "重点项目谋划清单已印发" in page
    finally:
        code = _stop(process)
    assert code == 0
    assert "已停止（收到中断信号）" in (workdir / "run.out").read_text(encoding="utf-8")

    again, printed_again = _start(workdir, port)
    try:
        assert printed_again.count("新增 35 项") == 1  # the demo was seeded on the first start only
        assert "演示数据已存在，未作改动" in printed_again
        with _api(url, office) as old:
            assert old.get("/me").status_code == 401  # the previous start's token is revoked
        with _api(url, TOKEN.findall(printed_again)[-1]) as api:
            assert api.get("/me").json()["role"] == "office"
            assert api.get(f"/tasks/{TASK}").json()["percent"] == 55
        for who in ("联络员", "改革办", "审计"):
            with _signed_in(url, printed_again, who) as web:
                assert web.get("/").status_code == 200
    finally:
        assert _stop(again) == 0
