"""The board and the task page of a running `duban serve` show no mobile number, however it was
typed into a title, a note, a milestone, a progress report, an extension request, a co-unit's
report or a 批示 (the last two shown on the task page since issue 12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import CO_UNIT, LEAD_UNIT, row, write_config
from tests.support.server import ServeProcess, duban, start_serve
from tests.support.signin import signed_in
from tests.unit.test_masking import visible_digits

CODE = "2024-01"
TYPED = {
    "13812345678": "联系人：+86 138-1234-5678 张伟",  # the title
    "13912345678": "备注：１３９ １２３４ ５６７８（全角）",  # the notes
    "13712345678": "对接+8613712345678",  # a milestone
    "13612345678": "已与财政局（136.1234.5678）沟通，方案已起草",  # a progress report
    "13512345678": "等待省厅批复，联系人 135 1234 5678",  # an extension's reason
    "13412345678": "配合测算资金，经办人 134-1234-5678",  # a co-unit's report
    "13312345678": "请与13312345678对接后报送",  # a 批示
}


def _token(config: Path, *args: str) -> str:
    issued = json.loads(duban(config, "token", "issue", "--format", "json", *args))
    return str(issued["token"])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'duban.db'}")
    duban(path, "init")
    return path


@pytest.fixture
def server(config: Path, tmp_path: Path) -> Iterator[ServeProcess]:
    office = _token(config, "--role", "office")
    lead = _token(config, "--role", "liaison", "--unit", LEAD_UNIT, "--name", "张伟")
    co = _token(config, "--role", "liaison", "--unit", CO_UNIT, "--name", "李娜")
    process = start_serve(config, tmp_path / "logs", "--no-scheduler")
    try:
        texts = list(TYPED.values())
        task = row(
            CODE,
            title=texts[0],
            notes=texts[1],
            milestones=[{"name": texts[2], "due": "2024-03-31"}],
        )
        with _api(process, office) as api:
            api.post("/tasks/import", json={"rows": [task]}).raise_for_status()
        with _api(process, lead) as api:
            api.post(f"/tasks/{CODE}/claim").raise_for_status()
            report = {"text": texts[3], "percent": 30}
            api.post(f"/tasks/{CODE}/reports", json=report).raise_for_status()
            ask = {"new_deadline": "2024-09-30", "reason": texts[4]}
            api.post(f"/tasks/{CODE}/extension/request", json=ask).raise_for_status()
        with _api(process, co) as api:
            report = {"text": texts[5], "percent": 50}
            api.post(f"/tasks/{CODE}/reports", json=report).raise_for_status()
        with _api(process, office) as api:
            api.post(f"/tasks/{CODE}/instructions", json={"text": texts[6]}).raise_for_status()
        yield process
    finally:
        process.stop()


def _api(server: ServeProcess, token: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=30)


def test_no_page_of_the_board_shows_a_mobile_number(server: ServeProcess, config: Path) -> None:
    """Seen by the lead unit's liaison, who may read every detail of the task."""
    cookies = signed_in(server.url, config, "张伟")
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=30) as web:
        board = web.get("/")
        page = web.get(f"/tasks/{CODE}")
    assert board.status_code == page.status_code == 200
    assert "138****5678" in board.text  # the title, on the board
    for mobile in TYPED:
        assert f"{mobile[:3]}****{mobile[-4:]}" in page.text, mobile  # shown, masked
        for html in (board.text, page.text):
            assert mobile not in visible_digits(html), mobile
