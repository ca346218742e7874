"""Issue 15, acceptance 1: the whole flow in headless Chromium through a real `duban serve`.

The office invites the lead unit's liaison from 人员和邀请; the liaison opens the link, signs
in, opens the task from the 交办 message, claims it, reports 60% with a PDF and a photo and asks
for an extension; the office grants it from the 工作台 queue; the liaison submits completion
with a file; the office accepts it from the queue. After each step the board (as the office)
shows the new state, the audit trail names the event and the person, and — for the messages
the product sends (the 交办 notice and every decision, PRODUCT.md rule 10) — the local fake
robots received it over real HTTP with a link to `{public_url}/tasks/{code}` that opens the
task page in the signed-in browser. The office's own chat (WeCom) hears of each of the
liaison's steps — the claim, the 60% report, the extension request, the completion — with the
same link (`[office] tell_receipts = true`; requests are told by default). The uploaded PDF
downloads with the same SHA-256.

The server's clock is pinned (`$DUBAN_NOW`, a Monday morning: working time); messages go out
by `duban deliver` between steps. Screenshots go to test-artifacts/flow-*.png.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.fakes.chat_markup import received
from tests.fakes.platforms import Accepted, FakePlatforms
from tests.support.clock import FIXED_NOW, NOW_ENV
from tests.support.pg import free_port
from tests.support.server import REPO, ServeProcess, duban, start_serve
from tests.support.signin import add_person, browser_sign_in, invite
from tests.support.webdriver import Browser, available, chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not available(), reason="needs /usr/bin/chromium and /usr/bin/chromedriver"),
]

ARTIFACTS = REPO / "test-artifacts"
T = TypeVar("T")
CODE = "2026-07"
UNIT = "县发展和改革局"
LIAISON = "张伟"
OFFICE_NAME = "李主任"
OFFICE_LOGIN = "lizhuren"
SECRET = "SECa1b2c3d4e5f60718293a4b5c6d7e8f9"
KEYWORD = "督办"

CONFIG = """\
timezone = "Asia/Shanghai"
store = "sqlite:///{db}"
allowed_webhook_hosts = ["{host}"]

[office]
name = "县委改革办"
channel = "office"
leaders_channel = "leaders"
tell_receipts = true

[web]
public_url = "{url}"

[[channels]]
name = "office"
platform = "wecom"
webhook = "{office_hook}"

[[channels]]
name = "leaders"
platform = "console"

[[channels]]
name = "fgj"
platform = "dingtalk"
webhook = "{unit_hook}"
secret = "{secret}"
keyword = "{keyword}"

[[channels]]
name = "wang"
platform = "feishu"
webhook = "{official_hook}"
secret = "{secret}"
keyword = "{keyword}"

[[units]]
name = "县发展和改革局"
channel = "fgj"
liaisons = [{{ name = "张伟", mobile = "13800000001" }}]

[[officials]]
name = "王建国"
title = "县委常委、常务副县长"
channel = "wang"
"""

TASKS = """\
year: 2026
tasks:
- code: {code}
  title: 深化“放管服”改革，推进政务服务“一网通办”
  lead_unit: 县发展和改革局
  official: 王建国
  deadline: '2026-08-31'
"""


# ---- evidence files made here ---------------------------------------------------------------


def minimal_pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table (any reader opens it)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def minimal_png(width: int = 4, height: int = 3) -> bytes:
    """A small RGB PNG (a photo as far as the type check goes), chunks CRC'd by zlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# ---- the county: fake robots, config, store, server -----------------------------------------


@dataclass
class County:
    fake: FakePlatforms
    config: Path
    server: ServeProcess
    url: str

    def deliver(self) -> None:
        """What the scheduler's `deliver` job does, on the pinned clock (working time)."""
        duban(self.config, "deliver")

    def audit(self) -> str:
        return duban(self.config, "audit", "log", "--task", CODE, "--format", "jsonl")


@pytest.fixture
def county(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[County]:
    monkeypatch.setenv(NOW_ENV, FIXED_NOW.isoformat())  # every command and the server
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakePlatforms() as fake:
        config = tmp_path / "duban.toml"
        config.write_text(
            CONFIG.format(
                db=tmp_path / "duban.db",
                host=fake.host,
                url=url,
                office_hook=fake.add_wecom(),
                unit_hook=fake.add_dingtalk(secret=SECRET, keyword=KEYWORD),
                official_hook=fake.add_feishu(secret=SECRET, keyword=KEYWORD),
                secret=SECRET,
                keyword=KEYWORD,
            ),
            encoding="utf-8",
        )
        duban(config, "init")
        add_person(config, "office", OFFICE_NAME, OFFICE_LOGIN)
        tasks = tmp_path / "tasks.yaml"
        tasks.write_text(TASKS.format(code=CODE), encoding="utf-8")
        duban(config, "import", str(tasks))
        server = start_serve(config, tmp_path / "logs", "--no-scheduler", port=port)
        try:
            yield County(fake, config, server, url)
        finally:
            server.stop()


@pytest.fixture
def office() -> Iterator[Browser]:
    with chromium(1280, 900) as session:
        yield session


@pytest.fixture
def phone() -> Iterator[Browser]:
    with chromium(390, 844) as session:
        yield session


# ---- what each step is checked against -----------------------------------------------------


def poll(find: Callable[[], T | None], what: str, seconds: float = 30) -> T:
    """`find()` once it returns something, or a failure naming `what` after the deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def board_row(browser: Browser, county: County) -> str:
    """The task's row on the board as the office sees it."""
    browser.open(f"{county.url}/")
    return browser.text(browser.find(f'tr.task[data-code="{CODE}"]'))


def trail(browser: Browser, county: County) -> list[str]:
    """The task's entries on 审计留痕, newest first as the page lists them."""
    browser.open(f"{county.url}/audit?task={CODE}")
    return browser.texts("#trail li.trail-entry")


def has_entry(entries: list[str], label: str, person: str) -> bool:
    return any(label in entry and person in entry for entry in entries)


def message_about(county: County, platform: str, headline: str) -> Accepted:
    """The one message with `headline` the fake `platform` accepted, after delivering."""

    def found() -> Accepted | None:
        county.deliver()
        hits = [m for m in county.fake.messages(platform) if headline in received(m).text]
        return hits[0] if hits else None

    return poll(found, f"a {platform} message 「{headline}」")


_TARGET = re.compile(r"\]\((\S+?)\)")  # where a Markdown link goes


def page_link(message: Accepted, county: County) -> str:
    """The message's link (inline or a card's button) to the task page."""
    page = f"{county.url}/tasks/{CODE}"
    shown = received(message)
    targets = [found for link in shown.links for found in _TARGET.findall(link)]
    targets += message.buttons
    assert page in targets, (shown.text, targets)
    return page


def opens_the_task(browser: Browser, link: str) -> None:
    """The link opens the task page itself, signed in (no detour to 登录)."""
    browser.open(link)
    assert browser.url == link
    assert CODE in browser.text(browser.find("h1"))
    assert "我的任务" in browser.text(browser.find("#nav"))


def office_told(county: County, office: Browser, step: str) -> str:
    """The office chat's (WeCom) one message of the liaison's `step` (「已签收」「报送进展」…):
    its link opens the task page in the office's browser; the text as the chat shows it."""
    told = message_about(county, "wecom", f"**{UNIT}**（{LIAISON}）{step}")
    link = page_link(told, county)
    office.open(link)
    assert office.url == link
    assert CODE in office.text(office.find("h1"))
    return received(told).text


def shot(browser: Browser, name: str) -> None:
    browser.screenshot(ARTIFACTS / f"flow-{name}.png")


def session_cookies(browser: Browser) -> httpx.Cookies:
    jar = httpx.Cookies()
    for name, cookie in browser.cookies().items():
        jar.set(name, cookie["value"])
    return jar


# ---- the flow -------------------------------------------------------------------------------


def test_invitation_to_accepted_completion_in_a_real_browser(
    county: County, office: Browser, phone: Browser, tmp_path: Path
) -> None:
    invitation = sign_the_office_in_and_invite_the_liaison(county, office)
    assert "已交办" in board_row(office, county)
    sign_the_liaison_in(county, phone, invitation)
    claim(county, office, phone)
    pdf = report_with_files(county, office, phone, tmp_path)
    ask_for_an_extension(county, office, phone)
    grant_from_the_queue(county, office, phone)
    submit_completion(county, office, phone, tmp_path)
    accept_from_the_queue(county, office, phone)
    downloads_the_same_bytes(county, phone, pdf)


def sign_the_office_in_and_invite_the_liaison(county: County, office: Browser) -> str:
    browser_sign_in(office, invite(county.config, OFFICE_LOGIN, county.url)["link"])
    office.open(f"{county.url}/office/people")
    office.fill('#invite-form input[name="person"]', LIAISON)
    office.submit(office.find("#invite-form"))
    link = office.value(office.find("#invite-link")).strip()
    assert link.startswith(f"{county.url}/invite?t="), link
    shot(office, "1-office-invites")
    return link


def sign_the_liaison_in(county: County, phone: Browser, invitation: str) -> None:
    browser_sign_in(phone, invitation)
    assert ("ReformTask.Assigned", "改革办") in trail_as_cli(county)
    notice = message_about(county, "dingtalk", "交办")
    opens_the_task(phone, page_link(notice, county))
    shot(phone, "1-liaison-opens-the-notice")


def trail_as_cli(county: County) -> list[tuple[str, str]]:
    """`duban audit log --task CODE --format jsonl`: each entry's stored type and who."""
    entries = [json.loads(line) for line in county.audit().splitlines() if line.strip()]
    return [(entry["type"], entry["who"]) for entry in entries]


def claim(county: County, office: Browser, phone: Browser) -> None:
    phone.submit(phone.find("#form-claim"))
    assert "已签收" in phone.text(phone.find("#done"))
    shot(phone, "2-claimed")
    row = board_row(office, county)
    assert "推进中" in row
    assert "已交办" not in row
    assert has_entry(trail(office, county), "签收", LIAISON)
    office_told(county, office, "已签收")


def report_with_files(county: County, office: Browser, phone: Browser, tmp_path: Path) -> bytes:
    pdf, photo = tmp_path / "推进会纪要.pdf", tmp_path / "现场照片.png"
    pdf.write_bytes(minimal_pdf())
    photo.write_bytes(minimal_png())
    phone.fill("#report-text", "已召开专题推进会，完成方案起草")
    phone.fill("#report-percent", "60")
    phone.upload(phone.find("#report-files"), pdf, photo)
    phone.submit(phone.find("#form-report"))
    assert "进展已报送" in phone.text(phone.find("#done"))
    timeline = phone.text(phone.find("#timeline"))
    assert "推进会纪要.pdf" in timeline
    assert "现场照片.png" in timeline
    shot(phone, "2-reported")
    assert "60%" in board_row(office, county)
    shot(office, "2-board-60")
    entries = trail(office, county)
    assert has_entry(entries, "报送进展：60%", LIAISON)
    assert has_entry(entries, "推进会纪要.pdf", LIAISON)
    assert has_entry(entries, "现场照片.png", LIAISON)
    told = office_told(county, office, "报送进展")
    assert "完成进度 **60%**" in told, told
    assert "附件：2个（推进会纪要.pdf、现场照片.png）" in told, told
    return pdf.read_bytes()


def ask_for_an_extension(county: County, office: Browser, phone: Browser) -> None:
    phone.click(phone.find("#extension-box summary"))
    date = phone.find("#extension-date")
    phone.script("arguments[0].value = '2026-10-31'", date)  # the date picker's own value
    phone.fill("#extension-reason", "需待省级批复后印发")
    phone.submit(phone.find("#form-extension"))
    assert "延期申请已提交" in phone.text(phone.find("#done"))
    shot(phone, "2-extension-asked")
    assert has_entry(trail(office, county), "申请延期至 2026年10月31日", LIAISON)
    office.open(f"{county.url}/office")
    asked = office.text(office.find(f"#ext-{CODE}"))
    assert "2026-10-31" in asked or "2026年10月31日" in asked, asked
    assert "需待省级批复后印发" in asked
    told = office_told(county, office, "申请延期")
    assert "申请延至：**2026年10月31日**" in told, told
    assert "理由：需待省级批复后印发" in told, told


def grant_from_the_queue(county: County, office: Browser, phone: Browser) -> None:
    office.open(f"{county.url}/office")
    office.fill(f"#ext-{CODE} textarea[name=reason]", "同意延期，请抓紧推进")
    office.submit(office.find(f"#ext-{CODE} form"))
    assert "已批准延期" in office.text(office.find("#done"))
    assert not office.find_all(f"#ext-{CODE}")
    shot(office, "3-granted")
    assert "2026-10-31" in board_row(office, county)
    shot(office, "3-board-new-deadline")
    assert has_entry(trail(office, county), "2026年8月31日 → 2026年10月31日", OFFICE_NAME)
    unit = message_about(county, "dingtalk", "延期申请已批准")
    official = message_about(county, "feishu", "延期申请已批准")
    page_link(official, county)
    opens_the_task(phone, page_link(unit, county))
    shot(phone, "3-liaison-opens-the-decision")


def submit_completion(county: County, office: Browser, phone: Browser, tmp_path: Path) -> None:
    scan = tmp_path / "印发文件.pdf"
    scan.write_bytes(minimal_pdf().replace(b"200 200", b"595 842"))
    phone.click(phone.find("#completion-box summary"))
    phone.fill("#completion-summary", "实施方案已印发，任务全部完成")
    phone.upload(phone.find("#completion-files"), scan)
    phone.submit(phone.find("#form-completion"))
    assert "销号申请已提交" in phone.text(phone.find("#done"))
    shot(phone, "3-completion-submitted")
    assert "待销号" in board_row(office, county)
    assert has_entry(trail(office, county), "提交销号", LIAISON)
    office.open(f"{county.url}/office")
    assert "实施方案已印发" in office.text(office.find(f"#done-{CODE}"))
    told = office_told(county, office, "提交销号申请")
    assert "完成情况：实施方案已印发，任务全部完成" in told, told
    assert "附件：1个（印发文件.pdf）" in told, told


def accept_from_the_queue(county: County, office: Browser, phone: Browser) -> None:
    office.open(f"{county.url}/office")
    office.fill(f"#done-{CODE} textarea[name=reason]", "材料齐全，同意销号")
    office.submit(office.find(f"#done-{CODE} form"))
    assert "已销号" in office.text(office.find("#done"))
    assert not office.find_all(f"#done-{CODE}")
    shot(office, "3-accepted")
    assert "已销号" in board_row(office, county)
    shot(office, "4-board-closed")
    assert has_entry(trail(office, county), "销号", OFFICE_NAME)
    unit = message_about(county, "dingtalk", "办结销号")
    page_link(message_about(county, "feishu", "办结销号"), county)
    opens_the_task(phone, page_link(unit, county))
    shot(phone, "4-liaison-opens-the-acceptance")


def downloads_the_same_bytes(county: County, phone: Browser, pdf: bytes) -> None:
    """The report's PDF, by its link on the task page, with the liaison's own session."""
    phone.open(f"{county.url}/tasks/{CODE}")
    links = phone.find_all('#timeline ul.files a[href*="/files/"]')
    hrefs = [str(phone.script("return arguments[0].href", link)) for link in links]
    digest = hashlib.sha256(pdf).hexdigest()
    assert f"{county.url}/tasks/{CODE}/files/{digest}" in hrefs, hrefs
    with httpx.Client(cookies=session_cookies(phone), timeout=30) as web:
        answer = web.get(f"{county.url}/tasks/{CODE}/files/{digest}")
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == digest
    assert answer.content == pdf
