"""Sign-in through a real `duban serve`: invitation → session cookie → board; refusals; CSRF."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import sample_rows, write_config
from tests.support.server import DUBAN, ServeProcess, duban, start_serve
from tests.support.signin import csrf_of, invite, redeem, signed_in


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'duban.db'}")
    duban(path, "init")
    return path


@pytest.fixture
def server(config: Path, tmp_path: Path) -> Iterator[ServeProcess]:
    process = start_serve(config, tmp_path / "logs", "--no-scheduler")
    yield process
    process.stop()


def _web(server: ServeProcess, cookies: httpx.Cookies | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, cookies=cookies, timeout=30)


@pytest.mark.parametrize(
    "path", ["/", "/tasks/2024-01", "/my", "/office", "/official", "/audit", "/password"]
)
def test_signed_out_pages_redirect_to_signin(server: ServeProcess, path: str) -> None:
    with _web(server) as web:
        answer = web.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=" + path


def test_healthz_and_static_stay_open(server: ServeProcess) -> None:
    with _web(server) as web:
        assert web.get("/healthz").status_code == 200
        assert web.get("/static/board.css").status_code == 200


def test_an_invitation_signs_in_once_and_the_cookie_opens_the_board(
    config: Path, server: ServeProcess
) -> None:
    link = invite(config, "张伟", server.url)["link"]
    with _web(server) as web:
        preview = web.get("/invite", params={"t": link.split("t=", 1)[1]})
        assert "确认登录" in preview.text  # GET shows a button only: a previewer spends nothing
        done = redeem(web, link)
        assert done.status_code == 200
        assert "已登录" in done.text
        board = web.get("/")
        assert board.status_code == 200
        assert "张伟" in board.text
        assert "退出" in board.text
    with _web(server) as again:
        refused = redeem(again, link)
    assert refused.status_code == 400
    assert "已使用过" in refused.text


def test_an_expired_invitation_is_refused(config: Path, server: ServeProcess) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=73)).isoformat()
    out = subprocess.run(
        [str(DUBAN), "--config", str(config), "invite", "赵磊", "--url", server.url],
        env={**os.environ, "DUBAN_NOW": past}, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    link = next(line for line in out.splitlines() if "/invite?t=" in line).strip()
    with _web(server) as web:
        answer = redeem(web, link)
        assert answer.status_code == 400
        assert "已过期" in answer.text
        assert web.get("/").status_code == 303


@pytest.mark.postgres
def test_on_either_store_a_revoked_session_or_a_disabled_person_is_signed_out_at_once(
    store_url: str, tmp_path: Path
) -> None:
    """Invite → redeem → session; `duban session revoke` (another process) ends it on the next
    request, and `duban person disable` ends every session of the person and their API token
    (a token is bound to its person's account)."""
    path = write_config(tmp_path, store_url)
    duban(path, "init")
    token = duban(
        path, "token", "issue", "--role", "liaison", "--unit", "县发展和改革局", "--name", "张伟",
        "--quiet",
    ).strip()  # fmt: skip
    api = {"Authorization": f"Bearer {token}"}
    server = start_serve(path, tmp_path / "logs", "--no-scheduler")
    try:
        first, second = (signed_in(server.url, path, "张伟") for _ in range(2))
        assert httpx.get(f"{server.url}/api/v1/me", headers=api).status_code == 200
        sessions = json.loads(duban(path, "session", "list", "--format", "json"))
        assert [s["live"] for s in sessions] == [True, True]
        with _web(server, first) as web:
            assert web.get("/").status_code == 200
            duban(path, "session", "revoke", sessions[0]["session_id"], "--reason", "设备遗失")
            assert web.get("/").status_code == 303
        with _web(server, second) as web:
            assert web.get("/").status_code == 200
            duban(path, "person", "disable", "张伟", "--reason", "调离")
            assert web.get("/").status_code == 303
        refused = httpx.get(f"{server.url}/api/v1/me", headers=api)
        assert refused.status_code == 401
        assert "已被停用" in refused.json()["message"]
        listed = duban(path, "session", "list")
        assert listed.count("已注销") == 2
    finally:
        server.stop()


def test_cookie_attributes(config: Path, server: ServeProcess) -> None:
    link = invite(config, "王建国", server.url)["link"]
    with _web(server) as web:
        answer = redeem(web, link)
    cookie = next(h for h in answer.headers.get_list("set-cookie") if "duban_session=" in h)
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "path=/" in lowered
    assert "secure" not in lowered  # plain http here; Secure when https or public_url is https


def test_a_form_without_or_with_a_wrong_csrf_changes_nothing(
    config: Path, server: ServeProcess
) -> None:
    cookies = signed_in(server.url, config, "李娜")
    with _web(server, cookies) as web:
        for sent in ({}, {"csrf": "0" * 64}):
            form = {"password": "longpassword1", "confirm": "longpassword1", **sent}
            refused = web.post("/password", data=form)
            assert refused.status_code == 403
            assert "未作任何处理" in refused.text
            assert web.post("/signout", data=sent).status_code == 403
        assert "否" in duban(config, "person", "list").splitlines()[-1]  # no password set
        assert web.get("/").status_code == 200  # still signed in
        token = csrf_of(web.get("/password").text)
        done = web.post("/password", data={"password": "longpassword1", "confirm": "longpassword1",
                                            "csrf": token})  # fmt: skip
        assert done.status_code == 200
        assert "密码已设置" in done.text
        assert web.post("/signout", data={"csrf": token}).status_code == 303
        assert web.get("/").status_code == 303


def test_password_sign_in_and_its_rate_limit(config: Path, server: ServeProcess) -> None:
    cookies = signed_in(server.url, config, "张伟")
    with _web(server, cookies) as web:
        token = csrf_of(web.get("/password").text)
        web.post("/password", data={"password": "s3cret-pass", "confirm": "s3cret-pass",
                                     "csrf": token})  # fmt: skip
    with _web(server) as web:
        form = csrf_of(web.get("/signin").text)
        good = {"login": "13800000001", "password": "s3cret-pass", "csrf": form, "next": "/"}
        for _ in range(5):
            wrong = web.post("/signin", data={**good, "password": "wrong-pass"})
            assert wrong.status_code == 400
            assert "不正确" in wrong.text
        limited = web.post("/signin", data=good)
        assert limited.status_code == 400
        assert "次数过多" in limited.text
    assert "s3cret-pass" not in server.output()


def test_the_public_board_shows_no_person_mobile_or_report(tmp_path: Path) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'duban.db'}")
    _public_board(path)
    duban(path, "init")
    issued = duban(path, "token", "issue", "--role", "office", "--quiet").strip()
    lead = duban(path, "token", "issue", "--role", "liaison", "--unit", "县发展和改革局",
                 "--name", "张伟", "--quiet").strip()  # fmt: skip
    server = start_serve(path, tmp_path / "logs", "--no-scheduler")
    try:
        office, liaison = {"Authorization": f"Bearer {issued}"}, {"Authorization": f"Bearer {lead}"}
        report = {"text": "已召开专题会议13800000009", "percent": 20}
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30) as api:
            api.post(
                "/tasks/import", json={"rows": sample_rows()}, headers=office
            ).raise_for_status()
            api.post("/tasks/2024-01/claim", headers=liaison).raise_for_status()
            api.post("/tasks/2024-01/reports", json=report, headers=liaison).raise_for_status()
        with _web(server) as web:
            board = web.get("/")
            task = web.get("/tasks/2024-01")
        assert board.status_code == 200
        assert "深化" in board.text
        for seeded in ("王建国", "张伟", "1380000", "专题会议", "/tasks/2024-01"):
            assert seeded not in board.text, seeded
        assert task.status_code == 303  # no task pages on the public board
    finally:
        server.stop()


def _public_board(path: Path) -> None:
    """The config with `[web] public_board = true` (a table at the end: TOML)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n[web]\npublic_board = true\n", encoding="utf-8")
