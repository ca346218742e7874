"""`duban serve` as a process: tokens from the CLI, signals, two nodes on one PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.holiday_notice import HolidayNotice
from domain.roles import Identity
from duban.api import create_app
from duban.app.commands import AssignTask
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import TZ, FakeClock
from tests.support.api import LEAD_UNIT, sample_rows, write_config
from tests.support.pg import PgServer
from tests.support.server import ServeProcess, duban, start_serve


def _issue(config: Path, *args: str) -> dict[str, str]:
    issued: dict[str, str] = json.loads(duban(config, "token", "issue", "--format", "json", *args))
    return issued


def _client(server: ServeProcess, token: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=30)


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


def test_tokens_from_the_cli_act_on_the_running_server(config: Path, server: ServeProcess) -> None:
    office = _issue(config, "--role", "office")
    lead = _issue(config, "--role", "liaison", "--unit", LEAD_UNIT, "--name", "张伟")
    with _client(server, office["token"]) as api:
        assert api.post("/tasks/import", json={"rows": sample_rows()}).status_code == 200
    with _client(server, lead["token"]) as api:
        assert api.post("/tasks/2024-01/claim").status_code == 200
        assert api.post("/tasks/2024-01/reports", json={"text": "推进中", "percent": 20}).is_success
        duban(config, "token", "revoke", lead["token_id"], "--reason", "调离")
        refused = api.post("/tasks/2024-01/reports", json={"text": "再报", "percent": 30})
    assert refused.status_code == 401  # revoked by another process, refused at once
    listing = duban(config, "token", "list")
    assert lead["token_id"] in listing
    assert lead["token"].split("_", 2)[2] not in listing
    assert lead["token"].split("_", 2)[2] not in server.output()


def test_serve_stops_gracefully_on_sigterm_and_sigint(config: Path, tmp_path: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        process = start_serve(config, tmp_path / sig.name, "--no-scheduler")
        assert process.stop(sig) == 0
        assert f"已停止（{sig.name}）" in process.output()


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_database_work_side_by_side(
    pg_server: PgServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, pg_server.create_database("duban_two_nodes"))
    duban(config, "init")
    office = _issue(config, "--role", "office")["token"]
    nodes = [start_serve(config, tmp_path / f"node{i}", "--no-scheduler") for i in (1, 2)]
    try:
        with _client(nodes[0], office) as api:
            api.post("/tasks/import", json={"rows": sample_rows()}).raise_for_status()
            api.post("/tasks/2024-01/claim").raise_for_status()
        statuses = _report_through_both(nodes, office, per_node=40)
        with _client(nodes[1], office) as api:
            history = api.get("/tasks/2024-01/history").json()
            task = api.get("/tasks/2024-01").json()
        boards = [_board_row(node, office, "2024-01") for node in nodes]
    finally:
        for node in nodes:
            node.stop()
    assert statuses == {200}
    reports = [e for e in history if e["type"].endswith("ProgressReported")]
    assert len(reports) == 80
    assert task["reports"] == 80
    assert [e["version"] for e in history] == list(range(1, len(history) + 1))
    assert [row["reports"] for row in boards] == [80, 80]  # both nodes' views caught up


def _board_row(node: ServeProcess, token: str, code: str) -> dict[str, Any]:
    with _client(node, token) as api:
        rows: list[dict[str, Any]] = api.get("/board").json()["rows"]
    return next(row for row in rows if row["code"] == code)


def _report_through_both(nodes: list[ServeProcess], token: str, per_node: int) -> set[int]:
    def send(args: tuple[ServeProcess, int]) -> int:
        node, n = args
        with _client(node, token) as api:
            body = {"text": f"第{n}次报送", "percent": n % 101}
            return api.post("/tasks/2024-01/reports", json=body).status_code

    jobs = [(node, n) for n in range(per_node) for node in nodes]
    with ThreadPoolExecutor(max_workers=16) as pool:
        return set(pool.map(send, jobs))


# ---- the calendar banner (issue 13): next year's holidays not imported yet ------------------


def test_the_board_shows_the_calendar_banner_until_next_years_notice_is_recorded(
    tmp_path: Path,
) -> None:
    """Server-rendered pages on a clock set to Monday 2026-12-07: 2027 is covered neither by
    chinesecalendar 1.11 nor by a recorded notice, so every page says so and names the command;
    in November, and once a 2027 notice is recorded, no page does."""
    clock = FakeClock(dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ))
    services = bootstrap(
        load_config(write_config(tmp_path, f"sqlite:///{tmp_path / 'd.db'}")), clock
    )
    services.ledger.import_tasks(
        [AssignTask.model_validate(r) for r in sample_rows()], Identity("office", "改革办")
    )
    with TestClient(create_app(services)) as web:
        pages = [web.get("/"), web.get("/tasks/2024-01")]
        assert [page.status_code for page in pages] == [200, 200]
        for page in pages:
            banner = _banner_text(page.text)
            assert banner.startswith("2027年节假日安排尚未导入，")
            assert "duban calendar import 通知.txt" in banner
        clock.now = dt.datetime(2026, 11, 30, 17, 0, tzinfo=TZ)
        assert _banner_text(web.get("/").text) == ""
        clock.now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
        notice = HolidayNotice(
            year=2027,
            holidays=["2027-01-01"],
            workdays=[],
            source_sha256="0" * 64,
            actor="office:改革办",
            at=clock.now,
        )
        services.ledger.save(notice)
        assert _banner_text(web.get("/").text) == ""
        assert _banner_text(web.get("/tasks/2024-01").text) == ""
    services.ledger.close()


def _banner_text(html: str) -> str:
    """The text of the calendar banner (tags dropped), or "" when the page has none."""
    found = re.search(r'<aside class="banner" id="calendar-banner"[^>]*>(.*?)</aside>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""
