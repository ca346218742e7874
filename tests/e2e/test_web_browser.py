"""A person signs in by an invitation link in Chromium, filters the board by unit, opens a task,
reads its timeline.

Served by a real `duban serve` process; driven by headless Debian Chromium through chromedriver.
Screenshots of what the person saw are kept under test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import CO_UNIT, HOSTILE_TITLE, LEAD_UNIT, row, sample_rows, write_config
from tests.support.clock import FIXED_NOW, NOW_ENV
from tests.support.server import REPO, ServeProcess, duban, start_serve
from tests.support.signin import add_person, browser_sign_in, invite
from tests.support.webdriver import Browser, available, chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not available(), reason="needs /usr/bin/chromium and /usr/bin/chromedriver"),
]
ARTIFACTS = REPO / "test-artifacts"


def _seed(server: ServeProcess, office: str) -> None:
    """Lights of every colour: overdue (red), due within days (yellow), ongoing (green), closed."""
    soon = (FIXED_NOW.date() + dt.timedelta(days=3)).isoformat()  # the server runs at FIXED_NOW
    ongoing = {"deadline": None, "deadline_text": "持续推进"}
    rows = [
        *sample_rows(),
        row("2024-04", title="深化财政预算管理改革", deadline=soon),
        row("2024-05", title="推进政务服务“一网通办”", **ongoing),
    ]
    headers = {"Authorization": f"Bearer {office}"}
    with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers) as api:
        api.post("/tasks/import", json={"rows": rows}).raise_for_status()
        liaison = {"role": "liaison", "unit": LEAD_UNIT, "name": "张伟"}
        lead = {"Authorization": f"Bearer {api.post('/tokens', json=liaison).json()['token']}"}
        api.post("/tasks/2024-01/claim", headers=lead).raise_for_status()
        report = {"text": "重点项目谋划清单已印发", "percent": 35}
        api.post("/tasks/2024-01/reports", json=report, headers=lead).raise_for_status()
        api.post("/tasks/2024-05/claim").raise_for_status()
        api.post("/tasks/2024-05/completion/submit", json={"summary": "已上线"}).raise_for_status()
        api.post("/tasks/2024-05/completion/accept", json={"reason": "同意销号"}).raise_for_status()


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """The seeded board's address and its config file."""
    monkeypatch.setenv(NOW_ENV, FIXED_NOW.isoformat())  # every command and the server
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'duban.db'}")
    duban(config, "init")
    office = json.loads(duban(config, "token", "issue", "--role", "office", "--format", "json"))
    server = start_serve(config, tmp_path / "logs", "--no-scheduler")
    try:
        _seed(server, office["token"])
        yield server.url, config
    finally:
        server.stop()


@pytest.fixture
def board_url(served: tuple[str, Path]) -> str:
    return served[0]


@pytest.fixture
def browser(served: tuple[str, Path]) -> Iterator[Browser]:
    """Chromium signed in as an auditor (who reads every task) through an invitation link."""
    url, config = served
    add_person(config, "auditor", "审计员", "auditor")
    with chromium() as session:
        browser_sign_in(session, invite(config, "auditor", url)["link"])
        yield session


def test_the_session_is_an_http_only_cookie_and_without_it_the_board_asks_to_sign_in(
    board_url: str, browser: Browser
) -> None:
    cookie = browser.cookies()["duban_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    browser.open(f"{board_url}/")
    assert "/signin" not in browser.url
    browser.delete_cookie("duban_session")
    browser.open(f"{board_url}/tasks/2024-01")
    assert browser.url == f"{board_url}/signin?next=/tasks/2024-01"


def _filter_by_unit(browser: Browser, unit: str) -> None:
    browser.click(browser.find(f'select#unit option[value="{unit}"]'))
    browser.follow(browser.find("button#apply"))


def test_a_person_filters_the_board_by_unit_and_reads_a_task(
    board_url: str, browser: Browser
) -> None:
    browser.open(f"{board_url}/")
    assert "改革任务督办看板" in browser.text(browser.find("header"))
    colours = ("red", "yellow", "green", "closed")
    lights = {light: len(browser.find_all(f"tr.task .dot.{light}")) for light in colours}
    assert all(count >= 1 for count in lights.values()), lights

    _filter_by_unit(browser, CO_UNIT)
    assert "unit=" in browser.url
    rows = browser.texts("tr.task")
    assert len(rows) == 4
    assert all(CO_UNIT in text for text in rows)
    assert not any(text.startswith("2024-02") for text in rows)
    browser.screenshot(ARTIFACTS / "web-board-filtered.png")

    browser.follow(browser.find('tr[data-code="2024-01"] td.title a'))
    assert browser.url.endswith("/tasks/2024-01")
    assert "深化“项目攻坚突破年”活动" in browser.text(browser.find("h1"))
    assert browser.text(browser.find("#light")) == "红灯"
    timeline = browser.texts("#timeline li")
    # newest first; the 交办通知 the import queued is on the task's timeline (not yet delivered)
    kinds = [t.split("\n")[1].split(" ")[0] for t in timeline]
    assert kinds == ["报送进展", "签收", "消息待发", "交办"]
    assert "交办通知" in timeline[2]
    assert "重点项目谋划清单已印发" in timeline[0]
    assert f"{LEAD_UNIT} 张伟" in timeline[0]
    assert "逾期" in browser.text(browser.find("#reasons"))
    browser.screenshot(ARTIFACTS / "web-task.png")


def test_a_hostile_title_renders_as_text_and_runs_nothing(board_url: str, browser: Browser) -> None:
    browser.open(f"{board_url}/tasks/2024-03")
    assert HOSTILE_TITLE in browser.text(browser.find("h1"))
    assert not browser.alert_open()
    loaded = "return performance.getEntriesByType('resource').map(e => e.name)"
    assert all(url.startswith(board_url) for url in browser.script(loaded))  # nothing else
    assert browser.script("return document.querySelectorAll('main script, main img').length") == 0


def test_the_board_fits_a_phone_screen(board_url: str, browser: Browser) -> None:
    browser.resize(390, 844)
    browser.open(f"{board_url}/")
    fits = "return document.documentElement.scrollWidth <= window.innerWidth"
    assert browser.script(fits) is True
    header = "return getComputedStyle(document.querySelector('thead')).display"
    assert browser.script(header) == "none"  # rows become cards
    browser.screenshot(ARTIFACTS / "web-board-phone.png")
    browser.open(f"{board_url}/tasks/2024-01")
    assert browser.script(fits) is True


def test_a_delivered_message_is_one_line_on_a_phone_and_its_attempts_open_without_script(
    served: tuple[str, Path], browser: Browser
) -> None:
    url, config = served
    duban(config, "deliver")  # the 交办通知 reaches the units' chat (console) at FIXED_NOW
    browser.resize(390, 844)
    browser.open(f"{url}/tasks/2024-01")
    timeline = browser.texts("#timeline li.entry")
    kinds = [t.split("\n")[1].split(" ")[0] for t in timeline]
    assert kinds == ["报送进展", "签收", "消息已送达", "交办"]  # no line per attempt
    assert f"已送达 {LEAD_UNIT}、{CO_UNIT}、县教育局群 09:30" in timeline[2]
    attempts = browser.find("#timeline details.attempts")
    shown = "return document.querySelector('#timeline details.attempts ol').offsetHeight"
    assert browser.script(shown) == 0  # folded
    browser.click(browser.find("#timeline details.attempts summary"))
    assert browser.script(shown) > 0  # opened by the browser itself: the page has no script
    assert "平台已接受" in browser.text(attempts)
    fits = "return document.documentElement.scrollWidth <= window.innerWidth"
    assert browser.script(fits) is True
    browser.screenshot(ARTIFACTS / "web-task-phone-timeline.png")
