"""Plain-Chinese descriptions for the audit trail, including events nobody told it about."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from domain.accountability import AccountabilityMeasure
from domain.holiday_notice import CalendarOverrides, HolidayNotice
from domain.instruction import Instruction
from domain.reminder import Reminder
from domain.task import ReformTask
from projections.audit import describe, task_codes_of, who

AT = dt.datetime(2024, 3, 2, 10, 0, tzinfo=dt.UTC)


def event_of(cls: type, **fields: Any) -> Any:
    """An event as the store's mapper decodes it: its class, and whatever state was stored."""
    event: Any = object.__new__(cls)
    object.__setattr__(event, "__dict__", fields)
    return event


def unknown_event(qualname: str, **fields: Any) -> Any:
    """An event of a class this module was never told about."""
    cls = type(qualname.rsplit(".", 1)[-1], (SimpleNamespace,), {})
    cls.__qualname__ = qualname
    return cls(**fields)


def test_actors_read_as_people() -> None:
    assert who("liaison:县发展和改革局/张伟") == "县发展和改革局 张伟"
    assert who("office:改革办") == "改革办"
    assert who("auditor:县纪委监委督查室") == "县纪委监委督查室"
    assert who("system:duban") == "系统（督办提醒）"
    assert who("system:delivery") == "系统（消息投递）"
    assert who(None) == "（未记录）"


def test_known_events_are_told_in_chinese() -> None:
    report = event_of(ReformTask.ProgressReported, text="方案已起草", percent=30,
                      actor="liaison:县发展和改革局/张伟", at=AT)  # fmt: skip
    assert describe(report) == "县发展和改革局 张伟 报送进展：30%，方案已起草"
    granted = event_of(ReformTask.ExtensionGranted, new_deadline=dt.date(2024, 9, 30),
                       previous_deadline=dt.date(2024, 6, 30), reason="用地未批",
                       actor="office:改革办", at=AT)  # fmt: skip
    assert describe(granted) == "改革办 批准延期：2024年6月30日 → 2024年9月30日：用地未批"
    revised = event_of(ReformTask.Revised, changes={"co_units": ["县审计局"]},
                       previous={"co_units": []}, reason="重新导入任务清单",
                       actor="office:改革办", at=AT)  # fmt: skip
    assert describe(revised) == "改革办 修改任务：配合单位 无 → 县审计局：重新导入任务清单"


def test_unknown_events_are_described_generically_but_readably() -> None:
    e = unknown_event("Survey.Answered", score=4, comments=["好", "快"], actor="official:王建国",
                      at=AT, originator_id="x", originator_version=1, timestamp=AT)  # fmt: skip
    assert describe(e) == "王建国 其他事项：4；好、快"  # no type name, no field name


def test_a_known_event_of_an_unexpected_shape_falls_back_to_the_generic_text() -> None:
    e = event_of(ReformTask.ProgressReported, note="新字段", actor="office:改革办", at=AT)
    assert describe(e) == "改革办 报送进展：新字段"  # the event's label, not its type


def test_task_codes_follow_the_contract() -> None:
    assert task_codes_of(SimpleNamespace(task_code="A")) == ["A"]
    assert task_codes_of(SimpleNamespace(task_codes=["A", "B", "A"])) == ["A", "B"]
    assert task_codes_of(SimpleNamespace(task_code="A", task_codes=["B"])) == ["A", "B"]
    assert task_codes_of(SimpleNamespace(task_code=None, task_codes=None)) == []


def test_a_recorded_notice_and_the_calendar_overrides_are_told_with_who_year_and_hash() -> None:
    sha = "0123456789abcdef" * 4
    recorded = event_of(HolidayNotice.Recorded, year=2027, holidays=["2027-10-07"] * 29,
                        workdays=["2027-09-26"] * 6, source_sha256=sha,
                        actor="office:李主任", at=AT)  # fmt: skip
    assert describe(recorded) == (
        f"李主任 导入2027年节假日安排通知（放假 29 天，调休上班 6 天，SHA-256 {sha}）"
    )
    revised = event_of(HolidayNotice.Revised, year=2027, holidays=[], workdays=[],
                       source_sha256=sha, previous_sha256="f" * 64, actor="office:改革办",
                       at=AT)  # fmt: skip
    assert describe(revised) == (
        f"改革办 更正2027年节假日安排通知（放假 0 天，调休上班 0 天，SHA-256 ffffffffffff → {sha}）"
    )
    overrides = event_of(CalendarOverrides.Changed, extra_holidays=["2027-02-01"],
                         extra_workdays=[], previous={}, actor="office:改革办", at=AT)  # fmt: skip
    assert describe(overrides) == "改革办 修改配置的日历调整：节假日 2027-02-01；工作日 无"


def test_a_reminder_shows_the_calendar_it_was_computed_with_when_it_has_one() -> None:
    fields = {"rung": "notice", "target": "deadline", "due": dt.date(2027, 10, 8),
              "audience": ["lead"], "channels": ["fgj"], "actor": "system:duban",
              "at": AT}  # fmt: skip
    old = describe(event_of(Reminder.Issued, **fields))
    new = describe(event_of(Reminder.Issued, **fields, calendar_version="2027:通知0123456789ab"))
    assert "日历" not in old  # stored before the field existed: the text it always had
    assert new == old + "，日历依据 2027年通知0123456789ab"


def test_instructions_and_accountability_measures_are_told_in_chinese() -> None:
    """They used to fall back to the generic text (「类别 interview；无；…」)."""
    issued = event_of(Instruction.Issued, task_code="2026-01", unit="县委编办", text="请加快推进",
                      answer_by=dt.date(2026, 6, 20), actor="official:王建国", at=AT,
                      number=1)  # fmt: skip
    assert describe(issued) == (
        "王建国 作出批示 2026-01/1：请加快推进；请县委编办于2026年6月20日前答复"
    )
    answered = event_of(Instruction.Answered, text="已制定方案",
                        actor="liaison:县委编办/张伟", at=AT)  # fmt: skip
    assert describe(answered) == "县委编办 张伟 答复批示：已制定方案"
    measure = event_of(AccountabilityMeasure.Recorded, task_code="2026-01", unit="县委编办",
                       kind="interview", reason="逾期未完成", document_no="县改办〔2026〕3号",
                       actor="office:改革办", at=AT, on=None)  # fmt: skip
    assert describe(measure) == (
        "改革办 记录约谈：县委编办，文号 县改办〔2026〕3号，事由 逾期未完成"
    )
    assert "interview" not in describe(measure)
    assert "无" not in describe(measure)


def test_the_generic_text_leaves_out_empty_fields() -> None:
    e = unknown_event("Survey.Answered", score=4, note=None, tags=[], actor="office:改革办", at=AT)
    assert describe(e) == "改革办 其他事项：4"  # no stray 「无」 for the empty ones
