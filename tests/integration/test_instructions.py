"""领导批示 and 追责问责 on real stores, SQLite and PostgreSQL (issue 12): who may issue, answer
and record; an unanswered 批示 past its answer date urged by real sweeps on an injected clock,
once per urge, re-urged at the ladder's repeat interval in working days, never after it is
answered or its task is closed; the 问责 register."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.errors import Forbidden, TaskClosed
from domain.instruction import InstructionAlreadyAnswered, InstructionNotFound
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.accountability import AccountabilityRegister
from duban.app.errors import Conflict, InvalidRequest
from duban.app.instruction_urging import urge_instructions
from duban.app.instructions import InstructionDesk, instruction_index, open_counts
from duban.app.reads import ReadModels
from duban.app.services import Services
from duban.app.sweep import sweep
from tests.conftest import TZ, FakeClock
from tests.support.sweep import (
    CZJ,
    FGJ,
    FGJ_LIAISON,
    JYJ,
    OFFICE,
    OFFICIAL,
    assign,
    county,
    stored,
    working_hours,
)

CODE = "2026-01"
LEAD = Identity("liaison", "张伟", FGJ)
CO = Identity("liaison", "李娜", CZJ)
OTHER = Identity("liaison", "赵磊", JYJ)
THE_OFFICIAL = Identity("official", OFFICIAL)
OTHER_OFFICIAL = Identity("official", "李四")
AUDITOR = Identity("auditor", "县纪委监委")
# Monday 2026-11-30 10:00 in Shanghai: a working hour.
START = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def services(store_url: str, clock: FakeClock) -> Services:
    svc = county(store_url, clock)
    assign(svc, CODE, dt.date(2027, 6, 30), official=OFFICIAL, co_units=(CZJ,))
    return svc


def _desk(services: Services) -> InstructionDesk:
    return InstructionDesk(services.ledger, TZ)


def _events(services: Services) -> int:
    return services.ledger.recorder.max_notification_id() or 0


def _urges(services: Services) -> list[Any]:
    return [e for e in stored(services, "ChatMessage.Queued") if e.kind == "instruction_urge"]


def _sweep(services: Services, clock: FakeClock, moment: dt.datetime) -> None:
    """One real sweep at `moment`: the ladder's rungs and the 批示 urging."""
    clock.now = moment
    sweep(services, moment)


# ---- who may --------------------------------------------------------------------------------


def test_only_the_tasks_official_and_the_office_issue_and_refusals_write_nothing(
    services: Services,
) -> None:
    desk = _desk(services)
    before = _events(services)
    for who in (LEAD, CO, OTHER, OTHER_OFFICIAL, AUDITOR):
        with pytest.raises(Forbidden):
            desk.issue(CODE, "请加快推进", None, who)
    assert _events(services) == before
    first = desk.issue(CODE, "请加快推进", dt.date(2026, 12, 2), THE_OFFICIAL)
    second = desk.issue(CODE, "请改革办跟踪", None, OFFICE)
    assert (first["ref"], second["ref"]) == (f"{CODE}/1", f"{CODE}/2")
    assert (first["unit"], first["issued_by"], first["issued_by_name"]) == (
        FGJ, f"official:{OFFICIAL}", OFFICIAL
    )  # fmt: skip
    with pytest.raises(InvalidRequest, match="不能早于今天"):
        desk.issue(CODE, "过期", dt.date(2026, 11, 27), OFFICE)
    with pytest.raises(InvalidRequest, match="日期超出允许范围"):
        desk.issue(CODE, "太远", dt.date(2100, 1, 1), OFFICE)


def test_only_the_lead_unit_answers_once(services: Services) -> None:
    desk = _desk(services)
    ref = desk.issue(CODE, "请加快推进", dt.date(2026, 12, 2), THE_OFFICIAL)["ref"]
    for who in (CO, OTHER, THE_OFFICIAL, AUDITOR):
        with pytest.raises(Forbidden):
            desk.answer(ref, "已落实", who)
    with pytest.raises(InstructionNotFound):
        desk.answer(f"{CODE}/7", "已落实", LEAD)
    with pytest.raises(InvalidRequest, match="批示编号"):
        desk.answer(CODE, "已落实", LEAD)
    done = desk.answer(ref, "已落实，12月底前完成", LEAD)
    assert (done["answered"], done["answered_by_name"]) == (True, f"{FGJ} 张伟")
    with pytest.raises(InstructionAlreadyAnswered):
        desk.answer(ref, "再答一次", LEAD)


def test_a_closed_task_takes_no_instruction(services: Services) -> None:
    services.ledger.cancel(CODE, cmd.Decision(reason="并入其他任务"), OFFICE)
    with pytest.raises(TaskClosed, match="不能再作批示"):
        _desk(services).issue(CODE, "请加快推进", None, OFFICE)


def test_each_reader_sees_the_instructions_of_their_tasks(services: Services) -> None:
    assign(services, "2026-02", dt.date(2027, 6, 30), lead=JYJ)
    desk = _desk(services)
    desk.issue(CODE, "一", None, THE_OFFICIAL)
    desk.issue("2026-02", "二", None, OFFICE)
    refs = {who.name: [r["ref"] for r in desk.listing(who)] for who in (OFFICE, AUDITOR, LEAD,
            CO, OTHER, THE_OFFICIAL, OTHER_OFFICIAL)}  # fmt: skip
    assert refs["改革办"] == refs["县纪委监委"] == [f"{CODE}/1", "2026-02/1"]
    assert refs["张伟"] == refs["李娜"] == refs[OFFICIAL] == [f"{CODE}/1"]
    assert refs["赵磊"] == ["2026-02/1"]
    assert refs["李四"] == []
    assert [r["ref"] for r in desk.of_task(CODE, LEAD)] == [f"{CODE}/1"]
    assert open_counts(services.ledger) == {CODE: 1, "2026-02": 1}


# ---- urging -----------------------------------------------------------------------------------


def test_an_unanswered_instruction_is_urged_after_its_date_once_per_urge(
    services: Services, clock: FakeClock
) -> None:
    """Answer by Wednesday 2026-12-02: urged on Thursday the 3rd (its first working hour), not
    again on Friday or Monday, again on Tuesday the 8th (3 working days later), never twice,
    never at the weekend or after it is answered."""
    desk = _desk(services)
    ref = desk.issue(CODE, "请于周三前报送推进方案", dt.date(2026, 12, 2), THE_OFFICIAL)["ref"]
    desk.issue(CODE, "无时限的批示", None, OFFICE)
    for moment in working_hours(dt.date(2026, 11, 30), dt.date(2026, 12, 8), range(8, 20)):
        for _ in range(2):  # every sweep twice: nothing more
            _sweep(services, clock, moment)
    urges = _urges(services)
    assert [u.at for u in urges] == [
        dt.datetime(2026, 12, 3, 9, 0, tzinfo=TZ),
        dt.datetime(2026, 12, 8, 9, 0, tzinfo=TZ),
    ]
    first, again = urges
    assert (first.channel, first.task_codes, first.mention_mobiles) == (
        "fgj",
        [CODE],
        [FGJ_LIAISON],
    )
    assert first.title.startswith("批示催办")
    assert again.title.startswith("批示再次催办")
    assert ref in first.parts[0]
    assert "2026年12月2日" in first.parts[0]
    assert "已逾期 1 个工作日" in first.parts[0]
    assert "已逾期 4 个工作日" in again.parts[0]
    # The task's audit trail shows the urge (task_codes).
    trail = ReadModels(services).audit(task=CODE)
    assert any("批示催办" in str(entry) for entry in trail)
    # Answered: never urged again.
    desk.answer(ref, "方案已报送", LEAD)
    for moment in working_hours(dt.date(2026, 12, 9), dt.date(2026, 12, 21)):
        _sweep(services, clock, moment)
    assert len(_urges(services)) == 2
    assert instruction_index(services.ledger).past_due(dt.date(2026, 12, 21)) == []


def test_urging_waits_for_working_time_and_stops_when_the_task_closes(
    services: Services, clock: FakeClock
) -> None:
    _desk(services).issue(CODE, "请周五前报送", dt.date(2026, 12, 4), OFFICE)
    saturday = dt.datetime(2026, 12, 5, 10, 0, tzinfo=TZ)
    evening = dt.datetime(2026, 12, 7, 20, 0, tzinfo=TZ)
    assert urge_instructions(services, saturday) == 0
    assert urge_instructions(services, evening) == 0
    monday = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
    sweep(services, monday, dry_run=True)
    assert _urges(services) == [], "a dry run queues nothing"
    assert urge_instructions(services, monday, dry_run=True) == 1
    assert _urges(services) == []
    assert urge_instructions(services, monday) == 1
    assert urge_instructions(services, monday) == 0
    clock.now = monday
    services.ledger.cancel(CODE, cmd.Decision(reason="并入其他任务"), OFFICE)
    later = dt.datetime(2026, 12, 21, 10, 0, tzinfo=TZ)
    assert urge_instructions(services, later) == 0
    assert len(_urges(services)) == 1


def test_only_unanswered_instructions_past_their_date_are_read(services: Services) -> None:
    desk = _desk(services)
    desk.issue(CODE, "早", dt.date(2026, 12, 1), OFFICE)
    desk.issue(CODE, "晚", dt.date(2026, 12, 20), OFFICE)
    desk.issue(CODE, "无", None, OFFICE)
    answered = desk.issue(CODE, "已答", dt.date(2026, 12, 1), OFFICE)["ref"]
    desk.answer(answered, "已落实", LEAD)
    due = instruction_index(services.ledger).past_due(dt.date(2026, 12, 10))
    assert [f["text"] for f in due] == ["早"]


# ---- 问责 ----------------------------------------------------------------------------------------


def test_only_the_office_records_a_measure_against_a_unit_of_the_task(services: Services) -> None:
    register = AccountabilityRegister(services.ledger, TZ)
    before = _events(services)
    for who in (LEAD, CO, THE_OFFICIAL, AUDITOR):
        with pytest.raises(Forbidden):
            register.record(CODE, FGJ, "约谈", "推进不力", "县改办〔2026〕3号", who)
    with pytest.raises(InvalidRequest, match="不是任务"):
        register.record(CODE, JYJ, "约谈", "推进不力", "县改办〔2026〕3号", OFFICE)
    with pytest.raises(InvalidRequest, match="无法识别"):
        register.record(CODE, FGJ, "批评", "推进不力", "县改办〔2026〕3号", OFFICE)
    assert _events(services) == before
    lead = register.record(CODE, FGJ, "约谈", "推进不力", "县改办〔2026〕3号", OFFICE)
    co = register.record(
        CODE, CZJ, "criticism", "配合不力", "县改办〔2025〕9号", OFFICE, dt.date(2025, 12, 30)
    )
    assert (lead["kind"], lead["kind_label"], lead["date"]) == ("interview", "约谈", "2026-11-30")
    assert (co["kind"], co["date"]) == ("criticism", "2025-12-30")
    with pytest.raises(Conflict, match="已就"):
        register.record(CODE, FGJ, "问责", "重复", "县改办〔2026〕3号", OFFICE)
    assert [m["unit"] for m in register.listing(OFFICE)] == [FGJ, CZJ]
    assert [m["unit"] for m in register.listing(AUDITOR, 2026)] == [FGJ]
    assert [m["unit"] for m in register.listing(OFFICE, 2025)] == [CZJ]
    assert [m["unit"] for m in register.listing(CO)] == [CZJ]
    assert [m["unit"] for m in register.listing(THE_OFFICIAL)] == [FGJ, CZJ]
    assert register.listing(OTHER_OFFICIAL) == []
