"""Links in the 交办 and decision notices (issue 15): with `[web] public_url` set, the notices
reach the local fake robots over real HTTP linking to the task's page; a one-task notice to a
chat where nobody is @-mentioned (the leading official's) comes as a DingTalk ActionCard or a
Feishu card with one 「查看任务」 button; where liaisons are @-mentioned it stays markdown with
the link inline (an ActionCard cannot @)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from duban.app.notices import queue_notices
from duban.app.services import Services
from duban.settings.sections import Web
from tests.fakes.chat_markup import received
from tests.fakes.platforms import FakeClock, FakePlatforms
from tests.integration.test_decision_notices import (
    CODE,
    START,
    assigned_and_claimed,
    county,
    grant,
    now_of,
)
from tests.support.delivery import deliver_until_quiet

BASE = "https://duban.example.gov.cn"
PAGE = f"{BASE}/tasks/{CODE}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START.timestamp())


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakePlatforms]:
    with FakePlatforms(clock=clock) as server:
        yield server


def _linked(services: Services) -> Services:
    config = services.config.model_copy(update={"web": Web(public_url=BASE)})
    return Services(config=config, ledger=services.ledger)


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_the_assignment_and_the_decision_link_to_the_task_page(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms, platform: str
) -> None:
    services = _linked(county(sqlite_url, fake, clock, platform))
    assigned_and_claimed(services, clock)
    grant(services)
    queue_notices(services, now_of(clock))
    deliver_until_quiet(services, clock)

    accepted = fake.messages(platform)
    assignment = [m for m in accepted if "交办通知" in received(m).text]
    decisions = [m for m in accepted if "延期申请已批准" in received(m).text]
    assert assignment
    assert decisions
    for message in [*assignment, *decisions]:
        assert any(PAGE in link for link in received(message).links), received(message).text
    kinds = {m.msgtype for m in decisions}
    if platform == "wecom":
        assert kinds == {"markdown"}
    else:
        button = "actionCard" if platform == "dingtalk" else "interactive"
        assert button in kinds  # the official's chat: nobody to @, one button
        assert all(m.buttons == [PAGE] for m in decisions if m.msgtype == button)
    if platform == "dingtalk":
        unit = [m for m in decisions if m.mobiles]  # the unit's chat: its liaison @-mentioned
        assert [m.msgtype for m in unit] == ["markdown"]
        assert f"[查看任务]({PAGE})" in received(unit[0]).text
        assert [m.msgtype for m in decisions if not m.mobiles] == ["actionCard"]
    if platform == "feishu":  # a custom bot cannot @ by mobile: both chats get the card
        assert kinds == {"interactive"}


def test_without_a_public_address_no_notice_carries_a_link(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    services = county(sqlite_url, fake, clock, "dingtalk")
    assigned_and_claimed(services, clock)
    grant(services)
    queue_notices(services, now_of(clock))
    deliver_until_quiet(services, clock)

    accepted = fake.messages("dingtalk")
    assert accepted
    assert all(m.msgtype == "markdown" for m in accepted)
    assert not any("/tasks/" in link for m in accepted for link in received(m).links)
