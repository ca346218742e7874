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
from tests.support.signin import sign_in_app


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
        said = {signal.SIGTERM: "收到终止信号", signal.SIGINT: "收到中断信号"}[sig]
        assert f"已停止（{said}）" in process.output()


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
        sign_in_app(web, services)
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


# ---- issue 12 and 14 on the pages: 批示, co-unit reports, one wording ----------------------


def _text(html: str) -> str:
    """The page's text as a person reads it: tags dropped, spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _found(pattern: str, html: str, group: int = 0) -> str:
    found = re.search(pattern, html, re.S)
    assert found is not None, pattern
    return found.group(group)


def _section(html: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    return _text(found.group(2)) if found else ""


@pytest.fixture
def county(tmp_path: Path) -> Iterator[tuple[TestClient, FakeClock]]:
    """The sample tasks on Monday 2026-06-15: the co-unit 县财政局 reports on 2024-01 (a mobile
    typed in), the leading official writes a 批示 due the next day, the 交办通知 is delivered at
    10:02; 2024-04 (a date cell's deadline, no co-unit) is accepted (销号)."""
    from duban.app import task_commands as tc
    from duban.app.delivery_adapters import deliver_due
    from duban.app.instructions import InstructionDesk
    from duban.app.notices import queue_notices_now
    from tests.support.api import CO_UNIT, OFFICIAL, row

    clock = FakeClock(dt.datetime(2026, 6, 15, 9, 30, tzinfo=TZ))
    services = bootstrap(
        load_config(write_config(tmp_path, f"sqlite:///{tmp_path / 'd.db'}")), clock
    )
    office = Identity("office", "改革办")
    dated = row("2024-04", deadline="2026-12-31", deadline_text="2026-12-31", co_units=[])
    rows = [AssignTask.model_validate(r) for r in [*sample_rows(), dated]]
    services.ledger.import_tasks(rows, office)
    queue_notices_now(services)
    co = Identity("liaison", "李娜", CO_UNIT)
    report = tc.REPORT.parse(text="已落实配套资金，联系人13612345678", percent=60)
    tc.REPORT.run(services.ledger, "2024-01", report, co)
    desk = InstructionDesk(services.ledger, TZ)
    desk.issue(
        "2024-01", "请于本周内报送推进方案", dt.date(2026, 6, 16), Identity("official", OFFICIAL)
    )
    services.ledger.claim("2024-04", office)
    tc.SUBMIT.run(services.ledger, "2024-04", tc.SUBMIT.parse(summary="已完成"), office)
    tc.ACCEPT.run(services.ledger, "2024-04", tc.ACCEPT.parse(reason="同意销号"), office)
    clock.now = dt.datetime(2026, 6, 15, 10, 2, tzinfo=TZ)
    deliver_due(services, clock.now, clock=clock.now.timestamp)
    clock.now = dt.datetime(2026, 6, 17, 10, 0, tzinfo=TZ)  # the 批示 is past its answer date
    with TestClient(create_app(services)) as web:
        sign_in_app(web, services)
        yield web, clock
    services.ledger.close()


def test_the_board_marks_open_instructions_and_labels_the_unit_filter_as_its_column(
    county: tuple[TestClient, FakeClock],
) -> None:
    web, _ = county
    html = web.get("/").text
    marked = re.findall(r'data-code="([^"]+)".*?</tr>', html, re.S)
    assert marked == ["2024-01", "2024-02", "2024-03", "2024-04"]
    first = re.search(r'data-code="2024-01".*?</tr>', html, re.S)
    assert first is not None
    assert "批示待复 1" in _text(first.group(0))
    assert "批示待复" not in _text(re.sub(r'data-code="2024-01".*?</tr>', "", html, flags=re.S))
    filters = _text(_found(r'<form class="filters".*?</form>', html))
    assert "牵头单位" in filters
    assert "责任单位" not in html
    units = re.findall(r'<option value="([^"]+)"', _found(r'<select name="unit".*?</select>', html))
    assert units == [
        "县发展和改革局",
        "县财政局",
        "县教育局",
    ]  # the config's order, not code points


def test_a_closed_task_has_one_status_label(county: tuple[TestClient, FakeClock]) -> None:
    web, _ = county
    board = web.get("/").text
    closed = re.search(r'data-code="2024-04".*?</tr>', board, re.S)
    assert closed is not None
    assert _text(closed.group(0)).count("已销号") == 1
    page = web.get("/tasks/2024-04").text
    for html in (board, page):
        assert "已关闭" not in html
    assert _section(page, "status") == "已销号"
    assert 'id="light"' not in page


def test_the_task_page_shows_open_instructions_and_co_unit_reports(
    county: tuple[TestClient, FakeClock],
) -> None:
    web, _ = county
    page = web.get("/tasks/2024-01").text
    instruction = _section(page, "instructions")
    for part in ("批示 2024-01/1", "王建国", "请于本周内报送推进方案", "答复时限 2026-06-16"):
        assert part in instruction, part
    assert "已逾期未答复" in instruction
    reports = _section(page, "co-reports")
    for part in ("县财政局", "2026-06-15", "本单位进度 60%", "已落实配套资金"):
        assert part in reports, part
    assert "136****5678" in reports
    assert "13612345678" not in page


def test_the_deadline_is_shown_once(county: tuple[TestClient, FakeClock]) -> None:
    web, _ = county
    assert _section(web.get("/tasks/2024-04").text, "deadline") == "2026-12-31"
    assert _section(web.get("/tasks/2024-03").text, "deadline") == "持续推进"
    assert _section(web.get("/tasks/2024-01").text, "deadline") == "2024-06-30（2024年6月底）"


def test_a_delivered_message_is_one_timeline_line_with_its_attempts_folded(
    county: tuple[TestClient, FakeClock],
) -> None:
    web, _ = county
    page = web.get("/tasks/2024-01").text
    timeline = re.findall(
        r'<li class="entry [^"]*">(.*?)</li>\s*(?=<li class="entry|</ol>)', page, re.S
    )
    labels = [_found(r'<b class="label">(.*?)</b>', entry, 1) for entry in timeline]
    assert labels == ["领导批示", "报送进展", "消息已送达", "交办"]  # the one vocabulary
    message = timeline[2]
    assert "已送达 县发展和改革局、县财政局、县教育局群 10:02" in _text(message)
    assert re.search(r"<details class=\"attempts\"><summary>投递记录（1 次）</summary>", message)
    assert "投递尝试" not in page
    assert "fgj" not in _text(page)
