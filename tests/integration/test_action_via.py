"""Every action records the person and the session (or token) it came through, end to end: one
liaison reports through a web session of a real `duban serve` and again with their API token;
`duban audit log` (JSON lines and the table), and the task page's trail, tell the two apart,
by the public ids only, never by a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import LEAD_UNIT, sample_rows, write_config
from tests.support.server import ServeProcess, duban, start_serve
from tests.support.signin import csrf_of, signed_in

CODE = "2024-01"


@dataclass
class Site:
    server: ServeProcess
    config: Path
    office: str  # the office's API token
    liaison: str  # 张伟's API token

    def api(self, token: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=f"{self.server.url}/api/v1", headers=headers, timeout=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("action_via")
    config = write_config(tmp, f"sqlite:///{tmp / 'var' / 'duban.db'}")
    duban(config, "init")
    office = duban(config, "token", "issue", "--role", "office", "--quiet").strip()
    liaison = duban(config, "token", "issue", "--role", "liaison", "--unit", LEAD_UNIT,
                    "--name", "张伟", "--quiet").strip()  # fmt: skip
    server = start_serve(config, tmp / "logs", "--no-scheduler")
    try:
        made = Site(server, config, office, liaison)
        with made.api(office) as api:
            api.post("/tasks/import", json={"rows": sample_rows()}).raise_for_status()
        yield made
    finally:
        server.stop()


def _token_id(token: str) -> str:
    return token.split("_")[1]  # dbn_<token_id>_<secret>


def _trail(config: Path) -> list[dict[str, Any]]:
    lines = duban(config, "audit", "log", "--task", CODE, "--format", "jsonl").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def acted(site: Site) -> dict[str, str]:
    """张伟 claims and reports 30% on the web, then reports 50% with his token; the secrets
    (the session cookie and both tokens) and the session's public id."""
    cookies = signed_in(site.server.url, site.config, "张伟")
    cookie = str(cookies.get("duban_session"))
    with httpx.Client(base_url=site.server.url, cookies=cookies, timeout=30) as web:
        for action, form in (("claim", {}), ("report", {"text": "网页报送", "percent": "30"})):
            page = web.get(f"/tasks/{CODE}")
            csrf = csrf_of(page.text)
            done = web.post(f"/tasks/{CODE}/{action}", data={**form, "csrf": csrf})
            assert done.status_code == 303, done.text
    with site.api(site.liaison) as api:
        api.post(
            f"/tasks/{CODE}/reports", json={"text": "接口报送", "percent": 50}
        ).raise_for_status()
    return {"cookie": cookie, "session": cookie.split("_")[1]}  # dbs_<public id>_<secret>


def test_the_json_trail_names_the_session_and_the_token_by_their_public_ids(
    site: Site, acted: dict[str, str]
) -> None:
    trail = _trail(site.config)
    reports = {e["data"]["text"]: e for e in trail if e["type"] == "ReformTask.ProgressReported"}
    web, api = reports["网页报送"], reports["接口报送"]
    assert web["via"] == web["data"]["via"] == f"session:{acted['session']}"
    assert api["via"] == api["data"]["via"] == f"token:{_token_id(site.liaison)}"
    assert web["actor"] == api["actor"] == f"liaison:{LEAD_UNIT}/张伟"  # one person, two doors
    claimed = next(e for e in trail if e["type"] == "ReformTask.Claimed")
    assert claimed["via"] == f"session:{acted['session']}"
    assigned = next(e for e in trail if e["type"] == "ReformTask.Assigned")
    assert assigned["via"] == f"token:{_token_id(site.office)}"  # imported with the office's
    everything = json.dumps(trail, ensure_ascii=False)
    for secret in (acted["cookie"], site.liaison, site.office):
        assert secret not in everything


def test_the_text_trail_and_the_task_page_say_which_door(site: Site, acted: dict[str, str]) -> None:
    by_text = {e["data"]["text"]: e for e in _trail(site.config) if "text" in e["data"]}
    token_id = _token_id(site.liaison)
    assert by_text["网页报送"]["who"] == f"{LEAD_UNIT} 张伟（网页登录）"
    assert by_text["网页报送"]["summary"] == f"{LEAD_UNIT} 张伟（网页登录） 报送进展：30%，网页报送"
    assert by_text["接口报送"]["summary"] == (
        f"{LEAD_UNIT} 张伟（接口令牌 {token_id}） 报送进展：50%，接口报送"
    )
    table = duban(site.config, "audit", "log", "--task", CODE)
    assert "（网页登录） 签收任务" in table
    assert f"（接口令牌 {token_id}） 报送进展" in table
    assert acted["session"] not in table  # a session is told as 网页登录, its id in the JSON
    with site.api(site.office) as api:
        history = api.get(f"/tasks/{CODE}/history").raise_for_status().json()
    assert [e.get("via") for e in history if e["type"] == "ReformTask.ProgressReported"] == [
        f"session:{acted['session']}", f"token:{token_id}"
    ]  # fmt: skip
    cookies = signed_in(site.server.url, site.config, "张伟")
    with httpx.Client(base_url=site.server.url, cookies=cookies, timeout=30) as web:
        page = web.get(f"/tasks/{CODE}").text
    assert f"{LEAD_UNIT} 张伟（网页登录）" in page
    assert f"张伟（接口令牌 {token_id}）" in page
