"""Decisions reach the unit (issue 12, acceptance 2; PRODUCT.md rules 3, 6 and 10).

Each decision — extension granted or denied, completion accepted or returned, plan approved or
returned, a 批示, a 问责 measure — is delivered as one message to the lead unit's chat (and to
the leading official's) through the local fake robots over real HTTP, inside working time,
each attempt recorded with the platform's answer. Running the step twice queues nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from domain.accountability import AccountabilityMeasure
from domain.instruction import Instruction
from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app import task_commands as tc
from duban.app.delivery_adapters import deliver_due
from duban.app.instructions import InstructionDesk
from duban.app.notices import queue_notices
from duban.app.services import Services, open_ledger
from duban.app.sweep import sweep
from duban.settings.config import parse_config
from tests.conftest import TZ
from tests.fakes.platforms import Accepted, FakeClock, FakePlatforms
from tests.support.delivery import deliver_until_quiet

OFFICE = Identity("office", "改革办")
UNIT = "县发展和改革局"
LIAISON = Identity("liaison", "张伟", UNIT)
OFFICIAL = "王建国"
SECRET = "SECa1b2c3d4e5f60718293a4b5c6d7e8f9"
KEYWORD = "督办"
# Monday 2026-11-30 10:00 in Shanghai: a working hour.
START = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
CODE = "2026-01"


def _robot(fake: FakePlatforms, platform: str) -> dict[str, Any]:
    if platform == "wecom":
        return {"platform": "wecom", "webhook": fake.add_wecom()}
    add = fake.add_dingtalk if platform == "dingtalk" else fake.add_feishu
    hook = add(secret=SECRET, keyword=KEYWORD)
    return {"platform": platform, "webhook": hook, "secret": SECRET, "keyword": KEYWORD}


def county(store_url: str, fake: FakePlatforms, clock: FakeClock, platform: str) -> Services:
    raw = {
        "store": store_url,
        "allowed_webhook_hosts": [fake.host],
        "channels": [
            {"name": "fgj", **_robot(fake, platform)},
            {"name": "wang", **_robot(fake, platform)},
            {"name": "office", "platform": "console"},
            {"name": "leaders", "platform": "console"},
        ],
        "office": {"channel": "office", "leaders_channel": "leaders"},
        "units": [
            {
                "name": UNIT,
                "channel": "fgj",
                "liaisons": [{"name": "张伟", "mobile": "13800000001"}],
            }
        ],
        "officials": [{"name": OFFICIAL, "mobile": "13900000001", "channel": "wang"}],
        "delivery": {"max_attempts": 8, "backoff_base_s": 30, "timeout_s": 30.0},
    }
    config = parse_config(raw)
    ledger = open_ledger(config.store, lambda: dt.datetime.fromtimestamp(clock(), TZ))
    return Services(config=config, ledger=ledger)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START.timestamp())


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakePlatforms]:
    with FakePlatforms(clock=clock) as server:
        yield server


def now_of(clock: FakeClock) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock(), TZ)


def move_to(clock: FakeClock, moment: dt.datetime) -> None:
    clock.advance((moment - now_of(clock)).total_seconds())


def assigned_and_claimed(services: Services, clock: FakeClock) -> None:
    row = cmd.AssignTask(
        code=CODE,
        title="深化“放管服”改革，推进政务服务“一网通办”",
        lead_unit=UNIT,
        official=OFFICIAL,
        deadline=dt.date(2026, 12, 31),
        deadline_text="2026年底前",
    )
    services.ledger.assign(row, OFFICE)
    services.ledger.claim(CODE, LIAISON)
    queue_notices(services, now_of(clock))  # the 交办 notice goes first, out of the way
    deliver_until_quiet(services, clock)


@pytest.fixture
def claimed(sqlite_url: str, clock: FakeClock, fake: FakePlatforms) -> Callable[[str], Services]:
    """The county on one platform's robots, its task assigned and claimed, the 交办 notice
    delivered: `claimed("wecom")`."""

    def make(platform: str) -> Services:
        services = county(sqlite_url, fake, clock, platform)
        assigned_and_claimed(services, clock)
        return services

    return make


def extension_requested(services: Services) -> None:
    services.ledger.request_extension(
        CODE, cmd.RequestExtension(new_deadline=dt.date(2027, 3, 31), reason="需省级批复"), LIAISON
    )


def completion_submitted(services: Services) -> None:
    services.ledger.submit_completion(
        CODE, cmd.SubmitCompletion(summary="已全部完成", evidence=()), LIAISON
    )


def decided(
    asked: Callable[[Services], None], command: tc.TaskCommand[Any], reason: str
) -> Callable[[Services], None]:
    """The unit asks (`asked`), then the office decides with `command` and `reason`. The
    office's own message of the request (`submission_notices`) is queued in between, out of
    the way: what is counted after is the decision's."""

    def make(services: Services) -> None:
        asked(services)
        queue_notices(services, services.ledger.clock())
        command.run(services.ledger, CODE, command.parse(reason=reason), OFFICE)

    return make


def reviewed(verdict: Literal["approve", "return"], reason: str) -> Callable[[Services], None]:
    """The unit submits a plan for 前置初审; the office approves or returns it."""

    def make(services: Services) -> None:
        services.ledger.submit_plan("FA-01", "政务服务改革实施方案", UNIT, CODE, OFFICE)
        services.ledger.review_plan("FA-01", verdict, reason, OFFICE)

    return make


grant = decided(extension_requested, tc.GRANT_EXTENSION, "同意延期")


def instruct(services: Services) -> None:
    at = services.ledger.clock()
    services.ledger.save(
        Instruction(
            task_code=CODE,
            unit=UNIT,
            text="抓紧推进，月底前见成效",
            answer_by=dt.date(2026, 12, 10),
            actor=f"official:{OFFICIAL}",
            at=at,
            number=1,
        )
    )


def hold_to_account(services: Services) -> None:
    measure = AccountabilityMeasure.record(
        task_code=CODE,
        unit=UNIT,
        kind="interview",
        reason="任务推进滞后",
        document_no="县改办〔2026〕3号",
        actor="office:改革办",
        at=services.ledger.clock(),
    )
    services.ledger.save(measure)


DECISIONS: dict[str, tuple[Callable[[Services], None], str, tuple[str, ...]]] = {
    "grant": (grant, "延期申请已批准", ("调整为**2027年3月31日**", "同意延期")),
    "deny": (
        decided(extension_requested, tc.DENY_EXTENSION, "理由不充分"),
        "延期申请未获批准",
        ("2026年12月31日", "理由不充分"),
    ),
    "accept": (
        decided(completion_submitted, tc.ACCEPT, "材料齐全"),
        "办结销号",
        ("予以销号（按期完成）", "材料齐全"),
    ),
    "return": (
        decided(completion_submitted, tc.RETURN, "缺少验收报告"),
        "办结申请退回",
        ("缺少验收报告",),
    ),
    "approve_plan": (
        reviewed("approve", "同意提交审议"),
        "方案通过前置初审",
        ("FA-01", "同意提交审议"),
    ),
    "return_plan": (reviewed("return", "目标不够具体"), "方案退回修改", ("FA-01", "目标不够具体")),
    "instruction": (instruct, "领导批示", ("抓紧推进，月底前见成效", "2026年12月10日")),
    "accountability": (hold_to_account, "追责问责", ("约谈", "任务推进滞后", "县改办〔2026〕3号")),
}


def messages_of(services: Services, kind: str) -> list[ChatMessage]:
    recorder = services.ledger.recorder
    found = recorder.select_notifications(0, 10_000, topics=["domain.reminder:ChatMessage.Queued"])
    events = [services.ledger.mapper.to_domain_event(n) for n in found]
    return [services.ledger.repository.get(e.originator_id) for e in events if e.kind == kind]


def decision_messages(services: Services) -> list[ChatMessage]:
    return messages_of(services, "decision_notice")


def received_by(fake: FakePlatforms, start: int, hook_of: str) -> list[Accepted]:
    return [m for m in fake.accepted[start:] if m.robot == hook_of]


@pytest.mark.parametrize("decision", sorted(DECISIONS))
@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_each_decision_delivers_one_message_to_the_unit_and_the_official(
    decision: str,
    platform: str,
    claimed: Callable[[str], Services],
    clock: FakeClock,
    fake: FakePlatforms,
) -> None:
    services = claimed(platform)
    make, title, phrases = DECISIONS[decision]
    seen = len(fake.accepted)

    make(services)
    report = queue_notices(services, now_of(clock))
    deliver_until_quiet(services, clock)

    assert len(report.queued) == 2  # the unit's chat and the official's
    messages = {m.channel: m for m in decision_messages(services)}
    assert sorted(messages) == ["fgj", "wang"]
    for message in messages.values():
        assert message.title.startswith(title)
        assert message.status == "delivered"
        assert message.task_codes == [CODE]
        text = "".join(message.parts)
        assert all(p in text for p in phrases), text
        # The delivery is proven: each attempt with the platform's own answer.
        stored = list(services.ledger.events.get(message.id))
        attempts = [e for e in stored if type(e).__name__ == "AttemptRecorded"]
        assert attempts
        assert all(a.answer["ok"] for a in attempts)
        assert {a.answer["platform"] for a in attempts} == {platform}
        assert all(a.answer["code"] == 0 for a in attempts)
    new = fake.accepted[seen:]
    robots = {m.robot for m in new}
    assert len(robots) == 2  # one robot per chat
    texts = "\n".join(m.text for m in new)
    assert texts.count(phrases[-1]) >= 2
    assert messages["fgj"].mention_mobiles == ["13800000001"]
    assert messages["wang"].mention_mobiles == []

    again = queue_notices(services, now_of(clock))
    deliver_until_quiet(services, clock)
    assert again.queued == []
    assert len(fake.accepted) == seen + len(new)


def test_a_decision_at_night_is_held_and_delivered_next_working_morning(
    claimed: Callable[[str], Services], clock: FakeClock, fake: FakePlatforms
) -> None:
    services = claimed("dingtalk")
    completion_submitted(services)
    move_to(clock, dt.datetime(2026, 12, 4, 20, 0, tzinfo=TZ))
    seen = len(fake.accepted)

    services.ledger.return_completion(CODE, cmd.Decision(reason="缺少验收报告"), OFFICE)
    queue_notices(services, now_of(clock))  # Friday 20:00: queued at once …
    deliver_due(services, now_of(clock), clock=clock)
    assert len(fake.accepted) == seen  # … but not sent outside working hours

    # Saturday and Sunday are not working days in 2026-12: Monday 09:00 is the next.
    move_to(clock, dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ))
    deliver_until_quiet(services, clock)

    new = fake.accepted[seen:]
    assert len(new) == 2
    assert all(m.at >= dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ).timestamp() for m in new)
    for message in decision_messages(services):
        assert message.status == "delivered"
        stored = list(services.ledger.events.get(message.id))
        delivered = [e for e in stored if type(e).__name__ == "Delivered"]
        assert delivered[0].at >= dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)


def test_the_sweep_queues_a_decision_it_was_not_told_of(
    claimed: Callable[[str], Services], clock: FakeClock
) -> None:
    """A decision recorded by another process (no step run after it): the next sweep tells."""
    services = claimed("wecom")
    grant(services)

    sweep(services, now_of(clock))

    assert sorted(m.channel for m in decision_messages(services)) == ["fgj", "wang"]


def test_a_reason_is_escaped_and_masked_and_a_task_without_official_tells_the_unit_only(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    services = county(sqlite_url, fake, clock, "wecom")
    row = cmd.AssignTask(
        code="2026-02", title="无领衔领导的任务", lead_unit=UNIT, deadline_text="持续推进"
    )
    services.ledger.assign(row, OFFICE)
    services.ledger.claim("2026-02", LIAISON)
    services.ledger.submit_completion(
        "2026-02", cmd.SubmitCompletion(summary="完成", evidence=()), LIAISON
    )
    reason = "见[附件](http://evil.example) <@all> 联系13912345678"
    services.ledger.return_completion("2026-02", cmd.Decision(reason=reason), OFFICE)

    report = queue_notices(services, now_of(clock))

    (message,) = decision_messages(services)
    # the 交办 notice and the decision, each to the unit only; the 销号申请 to the office
    assert len(report.queued) == 3
    assert message.channel == "fgj"
    text = "".join(message.parts)
    assert "退回理由：见［附件］（http：//evil.example） ＜＠all＞ 联系139＊＊＊＊5678" in text
    assert "13912345678" not in text


@pytest.mark.parametrize("platform", ["wecom", "feishu"])
def test_an_overdue_instruction_urges_the_unit_and_the_official_who_wrote_it(
    platform: str, claimed: Callable[[str], Services], clock: FakeClock, fake: FakePlatforms
) -> None:
    """The leading official writes a 批示 to be answered by Wednesday; on Thursday the sweep
    urges it: one message to the unit's robot and one to the official's, each delivered and
    recorded with the platform's answer; sweeping again sends nothing more."""
    services = claimed(platform)
    desk = InstructionDesk(services.ledger, TZ)
    desk.issue(CODE, "请于周三前报送推进方案", dt.date(2026, 12, 2), Identity("official", OFFICIAL))
    queue_notices(services, now_of(clock))
    deliver_until_quiet(services, clock)
    seen = len(fake.accepted)

    move_to(clock, dt.datetime(2026, 12, 3, 10, 0, tzinfo=TZ))
    for _ in range(2):
        sweep(services, now_of(clock))
        deliver_until_quiet(services, clock)

    urges = {m.channel: m for m in messages_of(services, "instruction_urge")}
    assert sorted(urges) == ["fgj", "wang"]
    for message in urges.values():
        assert message.status == "delivered"
        assert message.title == f"批示催办｜{CODE}"
        attempts = [e for e in services.ledger.events.get(message.id)
                    if type(e).__name__ == "AttemptRecorded"]  # fmt: skip
        assert attempts
        assert all(a.answer["ok"] and a.answer["platform"] == platform for a in attempts)
    assert urges["fgj"].mention_mobiles == ["13800000001"]
    assert urges["wang"].mention_mobiles == []
    heard = [m for m in fake.accepted[seen:] if "批示" in m.text and "至今未答复" in m.text]
    assert len(heard) == 2
    assert len({m.robot for m in heard}) == 2
