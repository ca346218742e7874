"""The audit trail: a task's story in plain Chinese, with every reminder and delivery attempt
that concerned it, and the directory changes in the global trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event

from domain.reminder import ChatMessage, Reminder
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from duban.settings.config import parse_config
from projections.views import Views, open_views
from tests.conftest import FakeClock
from tests.integration.test_projection_board import CALENDAR, assignment

OFFICE = Identity("office", "改革办")
ZHANG = Identity("liaison", "张伟", unit="县发展和改革局")
SYSTEM = "system:duban"
AT = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)


class Sticker(Aggregate):
    """An aggregate the audit module has never heard of, following the task_codes contract."""

    @event("Stuck")
    def __init__(self, colour: str, task_codes: list[str], actor: str, at: dt.datetime) -> None:
        self.colour = colour


@pytest.fixture
def ledger(store_url: str, clock: FakeClock) -> Iterator[Ledger]:
    app = open_ledger(store_url, clock)
    yield app
    app.close()


def story(ledger: Ledger, clock: FakeClock) -> None:
    ledger.assign(assignment("2024-07", lead="县发展和改革局"), OFFICE)
    ledger.assign(assignment("2024-08", lead="县发展和改革局"), OFFICE)
    clock.advance(days=1)
    ledger.claim("2024-07", ZHANG)
    ledger.report("2024-07", cmd.ReportProgress(text="方案已起草", percent=30), ZHANG)
    now = clock.now
    reminder = Reminder(
        key="2024-07|deadline|2024-04-30|urge|0", task_code="2024-07", target="deadline",
        due=dt.date(2024, 4, 30), rung="urge", seq=0, audience=["lead_unit", "office"],
        channels=["fgj"], actor=SYSTEM, at=now,
    )  # fmt: skip
    message = ChatMessage(
        message_key="m1", channel="fgj", kind="digest", title="督办提醒", parts=["…"],
        mention_mobiles=[], reminder_keys=[reminder.key], task_codes=["2024-07", "2024-08"],
        actor=SYSTEM, at=now,
    )  # fmt: skip
    message.record_attempt(
        0, {"ok": False, "kind": "rate_limited", "code": 45009}, now, SYSTEM, now
    )
    message.record_attempt(0, {"ok": True}, None, SYSTEM, now)
    message.mark_delivered(SYSTEM, now)
    ledger.save(
        reminder, message, Sticker(colour="红", task_codes=["2024-07"], actor=SYSTEM, at=now)
    )
    channels = [{"name": n, "platform": "console"} for n in ("office", "leaders", "fgj")]
    units = [
        {
            "name": "县发展和改革局",
            "channel": "fgj",
            "liaisons": [{"name": "张伟", "mobile": "13800000001"}],
        }
    ]
    ledger.reconcile_directory(parse_config({"channels": channels, "units": units}), OFFICE)


def summaries(views: Views, task: str | None = None, **kw: Any) -> list[str]:
    return [e["summary"] for e in views.audit.entries(task, **kw)]


def test_a_task_trail_tells_its_story_with_every_message_about_it(
    ledger: Ledger, clock: FakeClock
) -> None:
    story(ledger, clock)
    views = open_views(ledger, CALENDAR)
    views.catch_up(ledger, ["audit"])
    assert summaries(views, "2024-07") == [
        "改革办 交办任务 2024-07「改革任务 2024-07」，牵头单位 县发展和改革局，配合单位 县财政局，"
        "完成时限 2024年4月底",
        "县发展和改革局 张伟 签收任务",
        "县发展和改革局 张伟 报送进展：30%，方案已起草",
        "系统（督办提醒） 发出催办（完成时限，时限 2024年4月30日），"
        "通知牵头单位县发展和改革局、县委改革办，经县发展和改革局群",
        "系统（督办提醒） 生成消息「督办提醒」，发往县发展和改革局群，共 1 段",
        "系统（督办提醒） 投递第 1 段：平台未接受（错误码 45009）",
        "系统（督办提醒） 投递第 1 段：平台已接受",
        "系统（督办提醒） 确认消息已送达",
        "系统（督办提醒） 其他事项：红；2024-07",  # an unknown type: no type or field name
    ]
    assert summaries(views, "2024-08")[1:] == [
        "系统（督办提醒） 生成消息「督办提醒」，发往县发展和改革局群，共 1 段",
        "系统（督办提醒） 投递第 1 段：平台未接受（错误码 45009）",
        "系统（督办提醒） 投递第 1 段：平台已接受",
        "系统（督办提醒） 确认消息已送达",
    ]


def test_the_global_trail_has_everything_in_order_with_the_directory_changes(
    ledger: Ledger, clock: FakeClock
) -> None:
    story(ledger, clock)
    views = open_views(ledger, CALENDAR)
    views.catch_up(ledger, ["audit"])
    entries = views.audit.entries()
    last = ledger.recorder.max_notification_id()
    assert [e["position"] for e in entries] == list(range(1, (last or 0) + 1))
    directory = [e for e in entries if e["type"].startswith(("Unit.", "ChannelRecord."))]
    assert [e["tasks"] for e in directory] == [[]] * len(directory)
    assert "改革办 登记单位 县发展和改革局（县发展和改革局群，联络员 张伟）" in [
        e["summary"] for e in directory
    ]
    report = next(e for e in entries if e["type"] == "ReformTask.ProgressReported")
    assert report["data"]["text"] == "方案已起草"
    assert report["data"]["percent"] == 30
    assert report["actor"] == "liaison:县发展和改革局/张伟"
    assert report["at"] == "2024-03-02T10:00:00+08:00"
    assert report["recorded_at"] is not None


def test_since_filters_by_the_office_day_and_rebuild_gives_the_same_trail(
    ledger: Ledger, clock: FakeClock
) -> None:
    story(ledger, clock)
    views = open_views(ledger, CALENDAR)
    views.catch_up(ledger, ["audit"])
    before = views.audit.entries()
    later = views.audit.entries("2024-07", since=dt.date(2024, 3, 2))
    assert later[0]["summary"] == "县发展和改革局 张伟 签收任务"
    views.rebuild(ledger, ["audit"])
    assert views.audit.entries() == before


def test_an_event_with_a_nul_character_does_not_stall_the_views(ledger: Ledger) -> None:
    """Commands refuse NUL, but an event already stored with one must not block a view."""
    ledger.assign(assignment("2024-09"), OFFICE)
    ledger.save(Sticker(colour="红\x00蓝", task_codes=["2024-09"], actor="system:\x00", at=AT))
    views = open_views(ledger, CALENDAR)
    views.catch_up(ledger)
    entry = views.audit.entries("2024-09")[-1]
    assert entry["data"]["colour"] == "红\x00蓝"  # the full data keeps it
    assert entry["summary"].startswith("系统（")
    assert views.chain.verify().intact


def test_init_records_the_calendar_overrides_when_they_change_and_the_trail_tells(
    ledger: Ledger, clock: FakeClock
) -> None:
    channels = [{"name": n, "platform": "console"} for n in ("office", "leaders")]

    def init(**calendar: list[str]) -> int:
        config = parse_config({"channels": channels, "calendar": calendar})
        return ledger.reconcile_directory(config, OFFICE)

    init()
    assert init() == 0  # no overrides: nothing about the calendar is recorded
    assert init(extra_holidays=["2027-02-01"]) == 1
    assert init(extra_holidays=["2027-02-01"]) == 0
    clock.advance(days=1)
    assert init(extra_workdays=["2027-02-06"]) == 1
    assert init(extra_workdays=["2027-02-06"]) == 0
    views = open_views(ledger, CALENDAR)
    views.catch_up(ledger, ["audit"])
    calendar = [e for e in views.audit.entries() if e["type"].startswith("CalendarOverrides.")]
    assert [e["summary"] for e in calendar] == [
        "改革办 记录配置的日历调整：节假日 2027-02-01；工作日 无",
        "改革办 修改配置的日历调整：节假日 无；工作日 2027-02-06",
    ]
    assert calendar[1]["data"]["previous"] == {
        "extra_holidays": ["2027-02-01"],
        "extra_workdays": [],
    }
