"""Acceptance 5 of issue 15: a digest of 500 due tasks to one chat, every line linking to its
task's page (`[web] public_url` set), reaches each platform's local fake over real HTTP in parts
that the fake accepts — it refuses any payload over the platform's limit — with every task
once and every link whole; the DingTalk and Feishu robots are signed and keyword-checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from domain.reminder import ChatMessage
from notifiers import OutgoingMessage, notifier_for
from notifiers.limits import split_for_platform
from notifiers.messages import wire_parts
from notifiers.render import DigestItem, Renderer
from tests.conftest import TZ
from tests.fakes.chat_markup import received
from tests.fakes.platforms import FakeClock, FakePlatforms

BASE = "https://duban.example.gov.cn/duban"
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
SECRET = "SECa1b2c3d4e5f60718293a4b5c6d7e8f9"
KEYWORD = "督办"
TASKS = 500


@pytest.fixture
def fake() -> Iterator[FakePlatforms]:
    # Rate limits are not what this test is about: roomy windows, the size limits as the platforms'.
    with FakePlatforms(
        clock=FakeClock(NOW.timestamp()),
        wecom_per_window=1000,
        dingtalk_per_window=1000,
        feishu_per_window=1000,
        feishu_per_second=1000,
    ) as running:
        yield running


def _items() -> list[DigestItem]:
    rungs = [("bulletin", "通报"), ("supervise", "督办"), ("urge", "催办"), ("remind", "到期提醒")]
    return [
        DigestItem(
            task_code=f"2026-{i:03d}",
            title=f"深化第{i}项改革任务：[点我](http://evil.example) 推进重点领域改革落地见效",
            rung=rungs[i % 4][0],  # type: ignore[arg-type]
            rung_label=rungs[i % 4][1],
            deadline=dt.date(2026, 11, 1 + i % 28),
            days=i % 40,
            last_report="2026-10-20" if i % 3 else None,
            lead_unit="县发展和改革局",
            mention_names=("李静", "王强") if i % 5 == 0 else (),
            document_no=f"县改办督〔2026〕{i}号" if i % 4 < 2 else None,
        )
        for i in range(1, TASKS + 1)
    ]


def _robot(fake: FakePlatforms, platform: str) -> tuple[str, dict[str, Any]]:
    if platform == "wecom":
        return fake.add_wecom(), {}
    add = fake.add_dingtalk if platform == "dingtalk" else fake.add_feishu
    return add(secret=SECRET, keyword=KEYWORD), {"secret": SECRET, "keyword": KEYWORD}


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_500_task_digest_with_links_reaches_the_chat_within_every_limit(
    fake: FakePlatforms, platform: str
) -> None:
    items = _items()
    title, body = Renderer(public_url=BASE).render_digest("县发展和改革局", items, NOW)
    mobiles = ["13800000001", "13800000002"]
    message = ChatMessage(
        message_key="k", channel="fgj", kind="digest", title=title,
        parts=list(split_for_platform(platform, body, title, mobiles)),
        mention_mobiles=mobiles, reminder_keys=[], task_codes=[i.task_code for i in items],
        actor="system:duban", at=NOW,
    )  # fmt: skip
    url, options = _robot(fake, platform)
    with httpx.Client() as client:
        robot = notifier_for(
            platform, url, client=client, clock=fake.clock, allowed_hosts=[fake.host], **options
        )
        answers = [robot.send(part) for part in wire_parts(message, robot)]

    assert all(answer.ok for answer in answers), [a.detail for a in answers if not a.ok]
    shown = [received(m) for m in fake.messages(platform)]
    links = [link for r in shown for link in r.links if "/tasks/" in link]
    expected = [f"{BASE}/tasks/{item.task_code}" for item in items]
    assert sorted(_address(link) for link in links) == sorted(expected)  # each task once, whole
    assert not any("evil" in link for r in shown for link in r.links)
    assert len(fake.messages(platform)) > 1  # it did have to be cut


def test_the_fakes_refuse_a_payload_over_the_limit(fake: FakePlatforms) -> None:
    """The acceptance test can fail: one part too large is refused by each fake."""
    line = f"- [查看任务]({BASE}/tasks/2026-001)" + "很长的标题" * 2000
    url, options = _robot(fake, "dingtalk")
    with httpx.Client() as client:
        robot = notifier_for(
            "dingtalk", url, client=client, clock=fake.clock, allowed_hosts=[fake.host], **options
        )
        answer = robot.send(OutgoingMessage(f"{KEYWORD}提醒", line))

    assert not answer.ok
    assert answer.code == 460101


def _address(link: str) -> str:
    """The address of a Markdown link `[…](url)` or of a bare one (a Feishu `a` element)."""
    return link.split("](", 1)[1].rstrip(")") if link.startswith("[") else link
