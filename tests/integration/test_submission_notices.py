"""The office is told of what the units do (issue 15, acceptance 1: each step as a message).

A liaison's extension request and completion submission reach the office's chat at once
(`[office] tell_requests`, on by default), its claim and progress reports only when the office
asks for them (`tell_receipts`); each message names the unit, the liaison, the task, what was
asked, the files attached and links to the task's page. Steps the office records itself are
not told; a second run queues nothing again. The last test delivers them through the local
fake WeCom robot over real HTTP, inside working time.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest

from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.notices import queue_notices
from duban.app.services import Services, open_ledger
from duban.app.submission_notices import SUBMISSION_KIND
from duban.settings.config import parse_config
from tests.conftest import TZ
from tests.fakes.chat_markup import received
from tests.fakes.platforms import FakeClock, FakePlatforms
from tests.support.delivery import deliver_until_quiet

OFFICE = Identity("office", "改革办")
UNIT = "县发展和改革局"
HELPER = "县财政局"
LIAISON = Identity("liaison", "张伟", UNIT)
HELPER_LIAISON = Identity("liaison", "赵敏", HELPER)
CODE = "2026-07"
URL = "https://duban.example.gov.cn/ws"
LINK = f"[查看任务]({URL}/tasks/{CODE})"
PDF = b"%PDF-1.7\n%%EOF\n"
# Monday 2026-07-06 10:00 in Shanghai: a working hour.
START = dt.datetime(2026, 7, 6, 10, 0, tzinfo=TZ)


def county(store: str, office: dict[str, Any], office_chat: dict[str, Any]) -> dict[str, Any]:
    return {
        "store": store,
        "web": {"public_url": URL},
        "channels": [
            {"name": "office", **office_chat},
            {"name": "leaders", "platform": "console"},
            {"name": "fgj", "platform": "console"},
            {"name": "czj", "platform": "console"},
        ],
        "office": {"channel": "office", "leaders_channel": "leaders", **office},
        "units": [
            {
                "name": UNIT,
                "channel": "fgj",
                "liaisons": [{"name": "张伟", "mobile": "13800000001"}],
            },
            {
                "name": HELPER,
                "channel": "czj",
                "liaisons": [{"name": "赵敏", "mobile": "13800000002"}],
            },
        ],
    }


def services_of(raw: dict[str, Any], clock: FakeClock) -> Services:
    config = parse_config(raw)
    ledger = open_ledger(config.store, lambda: dt.datetime.fromtimestamp(clock(), TZ))
    return Services(config=config, ledger=ledger)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START.timestamp())


def now_of(clock: FakeClock) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock(), TZ)


def office_messages(services: Services) -> list[ChatMessage]:
    recorder = services.ledger.recorder
    found = recorder.select_notifications(0, 10_000, topics=["domain.reminder:ChatMessage.Queued"])
    events = [services.ledger.mapper.to_domain_event(n) for n in found]
    return [
        services.ledger.repository.get(e.originator_id) for e in events if e.kind == SUBMISSION_KIND
    ]


def body(message: ChatMessage) -> str:
    return "\n".join(str(part) for part in message.parts)


def assign(services: Services) -> None:
    row = cmd.AssignTask(
        code=CODE,
        title="深化“放管服”改革，推进政务服务“一网通办”",
        lead_unit=UNIT,
        co_units=[HELPER],
        deadline=dt.date(2026, 8, 31),
    )
    services.ledger.assign(row, OFFICE)


def attached(services: Services, *names: str) -> tuple[cmd.FileChoice, ...]:
    assert services.ledger.evidence is not None
    refs = [services.ledger.evidence.put(io.BytesIO(PDF), name) for name in names]
    return tuple(cmd.FileChoice(sha256=r.sha256, name=r.name) for r in refs)


def every_step(services: Services, clock: FakeClock) -> None:
    """Claim, a 60% report with two files, a co-unit's report, an extension request, a
    completion submission: each followed by the notices step, as the web forms do."""
    ledger = services.ledger
    steps = [
        lambda: ledger.claim(CODE, LIAISON),
        lambda: ledger.report(
            CODE,
            cmd.ReportProgress(
                text="已召开专题推进会，完成方案起草",
                percent=60,
                files=attached(services, "推进会纪要.pdf", "现场照片.pdf"),
            ),
            LIAISON,
        ),
        lambda: ledger.report(
            CODE, cmd.ReportProgress(text="资金已拨付到位", percent=100), HELPER_LIAISON
        ),
        lambda: ledger.request_extension(
            CODE,
            cmd.RequestExtension(new_deadline="2026-10-31", reason="需待省级批复后印发"),
            LIAISON,
        ),
        lambda: ledger.submit_completion(
            CODE,
            cmd.SubmitCompletion(
                summary="实施方案已印发，任务全部完成", files=attached(services, "印发文件.pdf")
            ),
            LIAISON,
        ),
    ]
    for step in steps:
        clock.advance(600)
        step()
        queue_notices(services, now_of(clock))


def test_requests_reach_the_office_by_default_and_receipts_do_not(
    sqlite_url: str, clock: FakeClock
) -> None:
    services = services_of(county(sqlite_url, {}, {"platform": "console"}), clock)
    assign(services)
    every_step(services, clock)
    told = office_messages(services)
    assert [m.title for m in told] == [f"延期申请｜{CODE}", f"销号申请｜{CODE}"]
    assert all(m.channel == "office" and m.mention_mobiles == [] for m in told)
    extension, completion = (body(m) for m in told)
    for expected in (
        f"**{UNIT}**（张伟）申请延期：**{CODE}**",
        "原完成时限：2026年8月31日，申请延至：**2026年10月31日**",
        "理由：需待省级批复后印发",
        "请在工作台审批。",
        LINK,
        "（申请延期时间：2026-07-06 10:40）",
    ):
        assert expected in extension, extension
    for expected in (
        f"**{UNIT}**（张伟）提交销号申请：**{CODE}**",
        "完成情况：实施方案已印发，任务全部完成",
        "附件：1个（印发文件.pdf）",
        "请在工作台审核。",
        LINK,
    ):
        assert expected in completion, completion


def test_receipts_when_asked_name_the_percent_the_files_and_the_co_unit(
    sqlite_url: str, clock: FakeClock
) -> None:
    raw = county(sqlite_url, {"tell_receipts": True}, {"platform": "console"})
    services = services_of(raw, clock)
    assign(services)
    every_step(services, clock)
    told = office_messages(services)
    assert [m.title.split("｜")[0] for m in told] == [
        "任务签收",
        "进展报送",
        "进展报送",
        "延期申请",
        "销号申请",
    ]
    claim, report, helper = (body(m) for m in told[:3])
    assert f"**{UNIT}**（张伟）已签收：**{CODE}**" in claim
    assert "完成时限：2026年8月31日" in claim
    assert f"**{UNIT}**（张伟）报送进展：**{CODE}**" in report
    assert "完成进度 **60%**" in report
    assert "进展情况：已召开专题推进会，完成方案起草" in report
    assert "附件：2个（推进会纪要.pdf、现场照片.pdf）" in report
    assert f"**{HELPER}**（赵敏）报送配合进展" in helper
    assert "附件" not in helper
    assert all(LINK in body(m) for m in told)


def test_nothing_is_told_when_both_switches_are_off(sqlite_url: str, clock: FakeClock) -> None:
    off = {"tell_requests": False, "tell_receipts": False}
    services = services_of(county(sqlite_url, off, {"platform": "console"}), clock)
    assign(services)
    every_step(services, clock)
    assert office_messages(services) == []


def test_each_step_is_told_once_and_the_office_s_own_steps_not_at_all(
    sqlite_url: str, clock: FakeClock
) -> None:
    raw = county(sqlite_url, {"tell_receipts": True}, {"platform": "console"})
    services = services_of(raw, clock)
    assign(services)
    queue_notices(services, now_of(clock))  # the 交办 notices, out of the way
    services.ledger.claim(CODE, OFFICE)  # recorded by the office on the unit's behalf
    services.ledger.report(CODE, cmd.ReportProgress(text="代为报送", percent=10), OFFICE)
    services.ledger.request_extension(
        CODE, cmd.RequestExtension(new_deadline="2026-09-30", reason="用地未批"), LIAISON
    )
    first = queue_notices(services, now_of(clock))
    again = queue_notices(services, now_of(clock))
    assert len(first.queued) == 1
    assert again.queued == []
    assert [m.title for m in office_messages(services)] == [f"延期申请｜{CODE}"]


def test_a_typed_reason_is_masked_escaped_and_cut(sqlite_url: str, clock: FakeClock) -> None:
    services = services_of(county(sqlite_url, {}, {"platform": "console"}), clock)
    assign(services)
    services.ledger.claim(CODE, LIAISON)
    reason = "联系13812345678，[点我](http://evil.example) " + "等" * 400
    services.ledger.request_extension(
        CODE, cmd.RequestExtension(new_deadline="2026-09-30", reason=reason), LIAISON
    )
    queue_notices(services, now_of(clock))
    (told,) = office_messages(services)
    text = body(told)
    assert "13812345678" not in text
    assert "138＊＊＊＊5678" in text  # masked, its stars made inert by the escaper
    assert "](http://evil.example)" not in text
    assert "等" * 250 in text
    assert "等" * 400 not in text
    assert text.count("](") == 1  # the task link is the only link


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakePlatforms]:
    with FakePlatforms(clock=clock) as server:
        yield server


def test_the_office_s_wecom_robot_receives_the_request_with_the_task_link(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    raw = county(sqlite_url, {}, {"platform": "wecom", "webhook": fake.add_wecom()})
    services = services_of({**raw, "allowed_webhook_hosts": [fake.host]}, clock)
    assign(services)
    every_step(services, clock)
    deliver_until_quiet(services, clock)
    shown = [received(m) for m in fake.messages("wecom")]
    texts = [s.text for s in shown]
    asked = [s for s in shown if "申请延期" in s.text]
    assert len(asked) == 1, texts
    assert f"{URL}/tasks/{CODE}" in " ".join(asked[0].links)
    assert sum("提交销号申请" in t for t in texts) == 1, texts


def test_a_request_decided_before_the_step_ran_is_told_as_it_was_asked(
    sqlite_url: str, clock: FakeClock
) -> None:
    """The sweep tells of a request another process stored, already granted: the message
    still gives the deadline the unit asked to move (the task at the request's version)."""
    services = services_of(county(sqlite_url, {}, {"platform": "console"}), clock)
    assign(services)
    services.ledger.claim(CODE, LIAISON)
    asked = cmd.RequestExtension(new_deadline="2026-10-31", reason="需待省级批复后印发")
    services.ledger.request_extension(CODE, asked, LIAISON)
    services.ledger.grant_extension(CODE, cmd.DecideExtension(reason="同意"), OFFICE)
    queue_notices(services, now_of(clock))
    (told,) = office_messages(services)
    assert "原完成时限：2026年8月31日，申请延至：**2026年10月31日**" in body(told)
