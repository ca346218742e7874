"""审计 pages on a real `duban serve` over the living demo (`duban demo seed`): who may read them,
the trail's filters and pages, the board as it stood, verification with the evidence files, the
JSON Lines export; one headless Chromium pass on a phone-sized window."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.clock import office_today
from tests.support.server import REPO, ServeProcess, duban, start_serve
from tests.support.signin import add_person, browser_sign_in, invite, signed_in
from tests.support.webdriver import Browser, available, chromium

SAMPLE = REPO / "examples" / "tasks-2024.csv"
ARTIFACTS = REPO / "test-artifacts"
YEAR = office_today().year  # the demo's year: the sample re-dated to the current year
PAGES = ("/audit", "/audit/board", "/audit/verify", "/audit/export.jsonl")
_ENTRY = re.compile(r'<li class="trail-entry" data-position="(\d+)">(.*?)</li>', re.S)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit")
    shutil.copy(REPO / "examples" / "duban.toml", folder / "duban.toml")
    path = folder / "duban.toml"
    duban(path, "init")
    duban(path, "demo", "seed", "--sample", str(SAMPLE), "--no-links")
    add_person(path, "auditor", "周审计", "zhou-audit")
    add_person(path, "office", "李主任", "li-office")
    return path


@pytest.fixture(scope="module")
def server(config: Path) -> Iterator[ServeProcess]:
    process = start_serve(config, config.parent / "logs", "--no-scheduler")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def auditor(config: Path, server: ServeProcess) -> Iterator[httpx.Client]:
    cookies = signed_in(server.url, config, "zhou-audit")
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=60) as client:
        yield client


def _entries(html: str) -> list[tuple[int, str]]:
    return [(int(position), body) for position, body in _ENTRY.findall(html)]


def _code(n: int) -> str:
    return f"{YEAR}-{n:02d}"


# ---- who may read ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_requests_are_sent_to_sign_in(server: ServeProcess, path: str) -> None:
    answer = httpx.get(server.url + path, timeout=30)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=" + path


@pytest.mark.parametrize("person", ["张伟", "王建国"])  # a liaison, a leading official
def test_liaisons_and_officials_get_the_chinese_403(
    config: Path, server: ServeProcess, person: str
) -> None:
    cookies = signed_in(server.url, config, person)
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=30) as web:
        for path in PAGES:
            answer = web.get(path)
            assert answer.status_code == 403, path
            assert "只供审计人员和县委改革办使用" in answer.text


def test_the_office_reads_the_audit_pages_too(config: Path, server: ServeProcess) -> None:
    cookies = signed_in(server.url, config, "li-office")
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=60) as web:
        assert all(web.get(path).status_code == 200 for path in PAGES)


def test_the_pages_are_read_only(auditor: httpx.Client) -> None:
    page = auditor.get("/audit").text
    assert 'method="post"' not in page.replace('action="/signout"', "").split("</header>", 1)[1]
    assert auditor.post("/audit", data={"task": _code(1)}).status_code == 405


# ---- the trail --------------------------------------------------------------------------------


def test_the_trail_is_paged_by_position_and_the_next_page_continues(auditor: httpx.Client) -> None:
    first = auditor.get("/audit").text
    shown = _entries(first)
    assert len(shown) == 50
    assert [p for p, _ in shown] == sorted(p for p, _ in shown)
    after = re.search(r'id="next-page" href="/audit\?after=(\d+)"', first)
    assert after
    assert int(after[1]) == shown[-1][0]
    second = _entries(auditor.get("/audit", params={"after": after[1]}).text)
    assert second
    assert second[0][0] > shown[-1][0]


def test_the_task_filter_shows_only_that_tasks_entries(auditor: httpx.Client) -> None:
    entries = _entries(auditor.get("/audit", params={"task": _code(1)}).text)
    assert entries
    assert all(f"/tasks/{_code(1)}" in body for _, body in entries)
    assert any("报送进展" in body and "60%" in body for _, body in entries)


def test_unit_and_type_filters_combine(auditor: httpx.Client) -> None:
    params = {"unit": "县发展和改革局", "kind": "报送进展"}
    entries = _entries(auditor.get("/audit", params=params).text)
    assert entries
    for _, body in entries:
        assert '<span class="kind">报送进展</span>' in body
    assert any(f"/tasks/{_code(1)}" in body for _, body in entries)
    other = _entries(auditor.get("/audit", params={**params, "unit": "县统计局"}).text)
    assert not any(f"/tasks/{_code(1)}" in body for _, body in other)


def test_the_date_range_bounds_the_trail_and_a_bad_date_is_named(auditor: httpx.Client) -> None:
    today = office_today().isoformat()
    entries = _entries(auditor.get("/audit", params={"since": today, "until": today}).text)
    assert entries  # the directory and the invitations of the day
    refused = auditor.get("/audit", params={"since": "2024-13-01", "task": _code(1)})
    assert refused.status_code == 400
    assert "日期须写成 2024-03-31 的形式" in refused.text
    assert f'value="{_code(1)}"' in refused.text  # what was typed is kept
    backwards = auditor.get("/audit", params={"since": today, "until": "2000-01-01"})
    assert "起始日期不能晚于截止日期" in backwards.text


def test_the_export_is_the_filtered_trail_as_json_lines(
    config: Path, auditor: httpx.Client
) -> None:
    answer = auditor.get("/audit/export.jsonl", params={"task": _code(1)})
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    lines = [json.loads(line) for line in answer.text.splitlines()]
    cli = [
        json.loads(line)
        for line in duban(
            config, "audit", "log", "--task", _code(1), "--format", "jsonl"
        ).splitlines()
    ]
    assert [e["position"] for e in lines] == [e["position"] for e in cli]
    assert all(_code(1) in e["tasks"] for e in lines)
    assert any(e["type"] == "ReformTask.ProgressReported" for e in lines)  # identifiers kept


# ---- the board as it stood, verification ---------------------------------------------------------


def test_the_board_as_of_a_date_shows_the_state_of_that_day(auditor: httpx.Client) -> None:
    def row(html: str, code: str) -> str:
        return html[html.index(f'data-code="{code}"') :].split("</tr>", 1)[0]

    before = auditor.get("/audit/board", params={"as_of": f"{YEAR}-01-01"}).text
    assert "当时尚无任务" in before or 'data-code="' not in before.split("asof-board", 1)[-1]
    today = auditor.get("/audit/board", params={"as_of": office_today().isoformat()}).text
    closed = [c for c in map(_code, range(1, 36)) if "已销号" in row(today, c)]
    assert len(closed) == 1
    refused = auditor.get("/audit/board", params={"as_of": "昨天"})
    assert refused.status_code == 400
    assert "日期须写成" in refused.text


def test_verify_shows_the_chain_head_and_names_a_changed_file(
    config: Path, auditor: httpx.Client
) -> None:
    page = auditor.get("/audit/verify").text
    assert "校验通过" in page
    head = json.loads(duban(config, "audit", "head", "--format", "json"))
    assert f'id="head-hash">{head["hash"]}<' in page
    stored = next(
        p
        for p in (config.parent / "var").rglob("*")
        if p.is_file() and p.stat().st_size and "evidence" in str(p)
    )
    original = stored.read_bytes()
    try:
        stored.write_bytes(original + b"tampered")
        broken = auditor.get("/audit/verify").text
    finally:
        stored.write_bytes(original)
    assert "校验未通过" in broken
    assert "内容已被改动" in broken
    assert "校验通过" in auditor.get("/audit/verify").text


# ---- a phone in the chat app's browser -----------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not available(), reason="needs /usr/bin/chromium and /usr/bin/chromedriver")
def test_an_auditor_filters_the_trail_on_a_phone(config: Path, server: ServeProcess) -> None:
    link = invite(config, "zhou-audit", server.url)["link"]
    with chromium(390, 844) as browser:
        browser_sign_in(browser, link)
        browser.open(server.url + "/audit")
        browser.fill("#task", _code(1))
        browser.submit(browser.find("#trail-filters"))
        assert f"task={_code(1)}" in browser.url
        assert browser.find_all(".trail-entry")
        browser.screenshot(ARTIFACTS / "web-audit-phone.png")
        assert _widest(browser, 390) <= 390
        browser.follow(browser.find("#audit-nav a[href='/audit/verify']"))
        assert "校验通过" in browser.text(browser.find("#verdict"))
        browser.screenshot(ARTIFACTS / "web-audit-verify-phone.png")
        browser.open(server.url + f"/audit/board?as_of={office_today().isoformat()}")
        assert _widest(browser, 360) <= 360


# Headless Chromium keeps a window at least 500 px wide: the page is laid out at the phone's
# width by narrowing the root element, then the right edge of every element is measured.
_WIDEST = (
    "document.documentElement.style.width = arguments[0] + 'px';"
    "return Math.max(...Array.from(document.querySelectorAll('body *'),"
    " e => e.getBoundingClientRect().right));"
)


def _widest(browser: Browser, width: int) -> float:
    """The right edge of the widest element when the page is laid out `width` px wide."""
    return float(browser.script(_WIDEST.replace("arguments[0]", str(width))))
