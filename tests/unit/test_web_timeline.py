"""The task timeline as a phone shows it (issue 14): a chat message's events — queued, each
delivery attempt, delivered or failed — are one entry saying how it ended, the attempts listed
under it; every other event stays one entry of its own, newest first. And the other wording
rules of the board's pages: a deadline shown once, the 任务 cell of the audit log kept short,
the co-units' reports on the terminal board."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from duban.app.routing import chat_titles
from duban.cli.projections import co_reports_text, tasks_text
from duban.settings.config import parse_config
from duban.web.task_page import deadline_note
from duban.web.timeline import UNKNOWN_CHAT, timeline

TZ = ZoneInfo("Asia/Shanghai")
CHATS = {"bb": "县委编办群"}
MESSAGE = "5b0f6c52-0000-4000-8000-000000000001"


def _entry(kind: str, at: str, who: str = "系统", **data: Any) -> dict[str, Any]:
    return {
        "at": f"2026-06-15T{at}:00+08:00",
        "recorded_at": None,
        "actor": "system:delivery",
        "who": who,
        "type": kind,
        "tasks": ["2024-01"],
        "summary": f"{who} {kind}",
        "data": data,
    }


def _message(kind: str, at: str, **data: Any) -> dict[str, Any]:
    return _entry(f"ChatMessage.{kind}", at, originator_id=MESSAGE, **data)


def _attempt(at: str, ok: bool, part: int = 0) -> dict[str, Any]:
    answer = {"ok": ok, "kind": "ok" if ok else "retry", "code": 0 if ok else 45009}
    return _message("AttemptRecorded", at, part=part, answer=answer, task_codes=["2024-01"])


def _trail(*ending: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _entry("ReformTask.Assigned", "08:55", who="改革办", title="深化改革"),
        _message("Queued", "09:00", channel="bb", title="交办通知｜县委编办", parts=["…"]),
        _attempt("09:01", ok=False),
        *ending,
        _entry("ReformTask.Claimed", "10:30", who="县委编办 张伟"),
    ]


def test_a_delivered_message_is_one_line_with_its_attempts_folded_under_it() -> None:
    trail = _trail(_attempt("09:02", ok=True), _message("Delivered", "09:02"))
    shown = timeline(trail, TZ, CHATS)
    assert [e.label for e in shown] == ["签收", "消息已送达", "交办"]  # newest first
    message = shown[1]
    assert message.outcome == "已送达 县委编办群 09:02"
    assert message.when == "2026-06-15 09:00"  # where it was queued
    assert message.summary == "「交办通知｜县委编办」发往县委编办群"
    assert message.attempts == [
        ("2026-06-15 09:01", "第 1 段：平台未接受（45009）"),
        ("2026-06-15 09:02", "第 1 段：平台已接受"),
    ]
    assert message.severity == "done"
    assert "bb" not in message.summary + message.outcome  # the chat's name, not its code


def test_a_message_still_waiting_or_failed_says_so() -> None:
    waiting = timeline(_trail(), TZ, CHATS)[1]
    assert (waiting.label, waiting.outcome) == ("消息待发", "待发送 县委编办群（已尝试 1 次）")
    failed = timeline(_trail(_message("Failed", "11:00", reason="群机器人已停用")), TZ, CHATS)
    assert [e.label for e in failed] == ["签收", "消息发送失败", "交办"]  # the one vocabulary
    assert failed[1].outcome == "投递失败 县委编办群 11:00"
    assert failed[1].severity == "alert"


def test_two_messages_stay_two_entries_and_a_chat_no_longer_configured_is_named_plainly() -> None:
    other = "5b0f6c52-0000-4000-8000-000000000002"
    trail = [
        _message("Queued", "09:00", channel="bb", title="催办通知"),
        _entry("ChatMessage.Queued", "09:05", originator_id=other, channel="gone", title="通报"),
        _message("Delivered", "09:10"),
        _entry("ChatMessage.Delivered", "09:20", originator_id=other),
    ]
    shown = timeline(trail, TZ, CHATS)
    assert [(e.summary, e.outcome) for e in shown] == [
        (f"「通报」发往{UNKNOWN_CHAT}", f"已送达 {UNKNOWN_CHAT} 09:20"),
        ("「催办通知」发往县委编办群", "已送达 县委编办群 09:10"),
    ]


def test_other_events_are_not_folded() -> None:
    trail = [_entry("ReformTask.ProgressReported", f"09:0{i}", text=f"第{i}次") for i in range(3)]
    shown = timeline(trail, TZ, CHATS)
    assert [e.label for e in shown] == ["报送进展"] * 3  # the one vocabulary
    assert all(e.outcome == "" and e.attempts == [] for e in shown)


def test_chats_are_named_by_the_units_the_office_and_the_leaders() -> None:
    config = parse_config(
        {
            "office": {"name": "县委改革办", "channel": "office", "leaders_channel": "leaders"},
            "channels": [{"name": n, "platform": "console"} for n in ("office", "leaders", "bb")],
            "units": [{"name": "县委编办", "channel": "bb"}],
        }
    )
    assert chat_titles(config) == {
        "bb": "县委编办群",
        "leaders": "县领导群",
        "office": "县委改革办群",
    }


def test_the_deadline_is_shown_once_unless_the_list_wrote_more_than_the_date() -> None:
    assert deadline_note("2024-12-31", "2024-12-31") is None  # a date cell: its ISO form
    assert deadline_note("2024-12-31", "2024/12/31") is None
    assert deadline_note("2024-12-31", "2024年12月31日") is None
    assert deadline_note(None, "持续推进") is None
    assert deadline_note("2024-12-31", "") is None
    assert deadline_note("2024-06-30", "2024年6月底") == "2024年6月底"
    assert deadline_note("2024-06-30", "2024-06-29") == "2024-06-29"  # differs: worth showing


def test_the_audit_logs_task_cell_names_a_few_tasks_and_counts_the_rest() -> None:
    assert tasks_text([]) == ""
    assert tasks_text(["2024-01", "2024-02"]) == "2024-01、2024-02"
    many = [f"2024-{n:02d}" for n in range(1, 83)]
    assert tasks_text(many) == "2024-01、2024-02、2024-03等82项"


def test_the_terminal_board_names_each_co_unit_with_its_last_report_day() -> None:
    row = {
        "co_units": ["县财政局", "县教育局"],
        "co_unit_reports": [
            {"unit": "县财政局", "by": "liaison:县财政局/李娜", "at": "2026-03-11T17:00:00+00:00"}
        ],
    }
    assert co_reports_text(row, TZ) == "县财政局 2026-03-12；县教育局 未报送"  # office time
    assert co_reports_text({"co_units": [], "co_unit_reports": []}, TZ) == ""


def test_record_details_show_what_a_person_reads_and_never_the_stores_keys() -> None:
    """A reminder's details: the rung, what it is about, whom and which chats, in words; its
    key, sequence number and calendar data version are left out (they used to be listed)."""
    reminder = _entry(
        "Reminder.Issued",
        "10:00",
        key="2026-01|deadline|2026-05-15|bulletin|3",
        task_code="2026-01",
        target="milestone:完成清单",
        due="2026-05-15",
        rung="bulletin",
        seq=3,
        audience=["lead_unit", "co_units", "leaders", "office"],
        channels=["bb", "gone"],
        calendar_version="2026:chinesecalendar 1.11.0",
    )
    numbered = _entry(
        "DocumentSequence.Numbered",
        "10:00",
        reminder_key="2026-01|deadline|2026-05-15|bulletin|3",
        number="县改办通〔2026〕1号",
        rung="bulletin",
    )
    measure = _entry("AccountabilityMeasure.Recorded", "11:00") | {
        "data": {
            "kind": "interview",  # the keyword `kind` is _entry's own
            "document_no": "县改办〔2026〕3号",
            "on": None,
            "reason": "逾期未完成",
            "unit": "县委编办",
        }
    }
    assigned = _entry(
        "ReformTask.Assigned",
        "08:00",
        title="深化改革",
        milestones=[{"due": "2026-06-15", "name": "完成清单"}],
        deadline=None,
    )
    shown = {e.label: e for e in timeline([assigned, reminder, numbered, measure], TZ, CHATS)}

    assert shown["发出提醒"].details == [
        ("督办事项", "阶段节点「完成清单」"),
        ("时限", "2026年5月15日"),
        ("提醒类别", "通报"),
        ("通知对象", "牵头单位、配合单位、县领导、县委改革办"),
        ("发送群", f"县委编办群、{UNKNOWN_CHAT}"),
    ]
    assert shown["编发文号"].details == [("文号", "县改办通〔2026〕1号"), ("提醒类别", "通报")]
    assert shown["记录问责"].details == [
        ("类别", "约谈"),
        ("文号", "县改办〔2026〕3号"),
        ("理由", "逾期未完成"),
        ("单位", "县委编办"),
    ]
    assert shown["交办"].details == [
        ("名称", "深化改革"),
        ("阶段节点", "完成清单（2026年6月15日）"),
    ]
    every = " ".join(f"{k} {v}" for e in shown.values() for k, v in e.details)
    for code in ("bulletin", "lead_unit", "bb", "seq", "chinesecalendar", "interview", "{"):
        assert code not in every
