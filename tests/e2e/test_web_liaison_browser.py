"""A liaison on a phone in headless Chromium: 我的任务 → the task → 签收 → 报送进展 with a file;
then the leading official's 领衔领导 page and a 批示. No JavaScript of ours runs: the forms
are plain HTML posts. Screenshots at 390x844 go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import sample_rows, write_config
from tests.support.server import REPO, ServeProcess, duban, start_serve
from tests.support.signin import browser_sign_in, invite
from tests.support.webdriver import Browser, available, chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not available(), reason="needs /usr/bin/chromium and /usr/bin/chromedriver"),
]
ARTIFACTS = REPO / "test-artifacts"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServeProcess, Path]]:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'duban.db'}")
    duban(config, "init")
    office = duban(config, "token", "issue", "--role", "office", "--quiet").strip()
    server = start_serve(config, tmp_path / "logs", "--no-scheduler")
    try:
        headers = {"Authorization": f"Bearer {office}"}
        with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers) as api:
            api.post("/tasks/import", json={"rows": sample_rows()}).raise_for_status()
        yield server, config
    finally:
        server.stop()


@pytest.fixture
def phone() -> Iterator[Browser]:
    with chromium(390, 844) as session:
        yield session


def _fits(browser: Browser) -> None:
    width = browser.script("return document.documentElement.scrollWidth")
    assert width <= browser.script("return window.innerWidth"), "scrolls sideways on a phone"


def test_a_liaison_claims_and_reports_with_a_file_on_a_phone(
    served: tuple[ServeProcess, Path], phone: Browser, tmp_path: Path
) -> None:
    server, config = served
    browser_sign_in(phone, invite(config, "张伟", server.url)["link"])
    phone.open(f"{server.url}/my")
    assert "我的任务" in phone.text(phone.find("#nav"))
    _fits(phone)
    phone.screenshot(ARTIFACTS / "web-my-tasks-390.png")
    phone.follow(phone.find("#task-2024-01 h2 a"))
    assert phone.url.endswith("/tasks/2024-01")
    phone.submit(phone.find("#form-claim"))
    assert "已签收" in phone.text(phone.find("#done"))
    phone.fill("#report-text", "已召开专题推进会")
    phone.fill("#report-percent", "30")
    evidence = tmp_path / "会议纪要.pdf"
    evidence.write_bytes(PDF)
    phone.upload(phone.find("#report-files"), evidence)
    phone.submit(phone.find("#form-report"))
    assert "进展已报送" in phone.text(phone.find("#done"))
    timeline = phone.text(phone.find("#timeline"))
    assert "会议纪要.pdf" in timeline
    assert phone.find_all('#timeline ul.files a[href^="/tasks/2024-01/files/"]')
    _fits(phone)
    phone.screenshot(ARTIFACTS / "web-task-forms-390.png")
    phone.fill("#report-percent", "150")  # the browser refuses it first; the server too
    phone.fill("#report-text", "写错的进度")
    phone.script("arguments[0].noValidate = true", phone.find("#form-report"))
    phone.submit(phone.find("#form-report"))
    assert "完成进度" in phone.text(phone.find("#error-report"))
    assert phone.value(phone.find("#report-text")) == "写错的进度"


def test_the_official_issues_an_instruction_on_a_phone(
    served: tuple[ServeProcess, Path], phone: Browser
) -> None:
    server, config = served
    browser_sign_in(phone, invite(config, "王建国", server.url)["link"])
    phone.open(f"{server.url}/official")
    assert "领衔领导" in phone.text(phone.find("#nav"))
    phone.click(phone.find("#task-2024-01 details summary"))
    phone.fill("#instruct-2024-01 textarea", "请于月底前报送推进情况")
    phone.submit(phone.find("#instruct-2024-01"))
    assert "批示已发出" in phone.text(phone.find("#done"))
    assert "请于月底前报送推进情况" in phone.text(phone.find("#task-2024-01"))
    _fits(phone)
    phone.screenshot(ARTIFACTS / "web-official-390.png")
