"""领导批示 and 追责问责 on real stores, SQLite and PostgreSQL (issue 12): who may issue, answer
and record; an unanswered 批示 past its answer date urged by real sweeps on an injected clock,
once per urge, re-urged at the ladder's repeat interval in working days, never after it is
answered or its task is closed; the 问责 register."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.errors import Forbidden, TaskClosed
from domain.instruction import (
    Instruction,
    InstructionAlreadyAnswered,
    InstructionError,
    InstructionNotFound,
)
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.accountability import AccountabilityRegister
from duban.app.errors import Conflict, InvalidRequest
from duban.app.instruction_urging import urge_instructions
from duban.app.instructions import InstructionDesk, instruction_index, open_counts
from duban.app.notices import queue_notices
from duban.app.reads import ReadModels
from duban.app.services import Services, open_ledger
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


# ---- a report answers --------------------------------------------------------------------------


def _report(text: str, percent: int = 40) -> cmd.ReportProgress:
    return cmd.ReportProgress(text=text, percent=percent)


def _task_events(services: Services) -> list[Any]:
    return stored(services, "ReformTask.ProgressReported")


def test_the_lead_units_report_answers_the_instructions_it_names(
    services: Services, clock: FakeClock
) -> None:
    desk = _desk(services)
    first = desk.issue(CODE, "请报送推进方案", dt.date(2026, 12, 2), THE_OFFICIAL)["ref"]
    second = desk.issue(CODE, "请改革办跟踪", None, OFFICE)["ref"]
    third = desk.issue(CODE, "请同步报送风险清单", None, OFFICE)["ref"]
    services.ledger.claim(CODE, LEAD)
    clock.now = START + dt.timedelta(hours=1)

    said = desk.report(CODE, _report("推进方案已报送县政府"), [first, f" {first} "], LEAD)

    assert said == f"{CODE} 进展已报送（40%），已答复批示 {first}"
    shown = {i["ref"]: i for i in desk.of_task(CODE, OFFICE)}
    assert (shown[first]["answered"], shown[first]["answer_text"]) == (True, "推进方案已报送县政府")
    assert shown[first]["answered_by"] == LEAD.actor
    assert shown[first]["answered_at"] == clock.now.isoformat()
    assert not shown[second]["answered"]
    assert [e.text for e in _task_events(services)] == ["推进方案已报送县政府"]
    # `all`: every instruction still open, the office recording the report for the unit.
    said = desk.report(CODE, _report("风险清单已报送", 50), ["all"], OFFICE)
    assert said.endswith(f"已答复批示 {second}、{third}")
    assert all(i["answered"] for i in desk.of_task(CODE, OFFICE))
    assert open_counts(services.ledger) == {}
    with pytest.raises(InstructionError, match="没有待答复的批示"):
        desk.report(CODE, _report("再报一次"), ["all"], LEAD)
    with pytest.raises(InstructionAlreadyAnswered):
        desk.report(CODE, _report("再报一次"), [first], LEAD)
    assert len(_task_events(services)) == 2, "a refused answer saves no report either"


@pytest.mark.parametrize(
    ("who", "answers", "error", "match"),
    [
        (CO, ["all"], Forbidden, "只有牵头单位县发展和改革局可以答复"),
        (CO, [f"{CODE}/1"], Forbidden, f"不能答复批示 {CODE}/1"),
        (THE_OFFICIAL, ["all"], Forbidden, "只有任务牵头单位的联络员"),
        (LEAD, ["2026-02/1"], InvalidRequest, "不是任务 2026-01 的批示"),
        (LEAD, ["第一条"], InvalidRequest, "批示编号"),
        (LEAD, ["all", f"{CODE}/1"], InvalidRequest, "不能与具体编号同时使用"),
        (LEAD, [f"{CODE}/9"], InstructionNotFound, "没有编号为"),
    ],
)
def test_a_report_that_may_not_answer_is_refused_and_saves_nothing(
    services: Services, who: Identity, answers: list[str], error: type[Exception], match: str
) -> None:
    desk = _desk(services)
    desk.issue(CODE, "请报送推进方案", None, THE_OFFICIAL)
    services.ledger.claim(CODE, LEAD)
    before = _events(services)
    with pytest.raises(error, match=match):
        desk.report(CODE, _report("配合单位的进展"), answers, who)
    assert _events(services) == before
    assert not desk.of_task(CODE, OFFICE)[0]["answered"]


def test_the_report_and_its_answer_are_one_transaction(
    services: Services, clock: FakeClock, store_url: str
) -> None:
    """Another writer answers the instruction after this report loaded it and before it saves:
    the save fails as a whole, so the report is not stored without its answer; reloaded, the
    instruction is answered already and the report is refused (nothing of it stored)."""
    desk = _desk(services)
    ref = desk.issue(CODE, "请报送推进方案", None, THE_OFFICIAL)["ref"]
    services.ledger.claim(CODE, LEAD)
    other = open_ledger(store_url, clock)  # a second process on the same store
    repository = services.ledger.repository
    get = repository.get
    raced: list[bool] = []

    def get_then_race(aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
        found = get(aggregate_id, *args, **kwargs)
        if isinstance(found, Instruction) and not raced:
            raced.append(True)
            InstructionDesk(other, TZ).answer(ref, "另一处已答复", LEAD)
        return found

    repository.get = get_then_race  # type: ignore[method-assign]
    try:
        with pytest.raises(Conflict, match="已于2026年11月30日答复"):
            desk.report(CODE, _report("推进方案已报送"), [ref], LEAD)
    finally:
        repository.get = get  # type: ignore[method-assign]
        other.close()
    assert raced
    assert _task_events(services) == [], "no report without its answer"
    (answer,) = stored(services, "Instruction.Answered")
    assert answer.text == "另一处已答复"


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
    urges = [u for u in _urges(services) if u.channel == "fgj"]
    assert [u.at for u in urges] == [
        dt.datetime(2026, 12, 3, 9, 0, tzinfo=TZ),
        dt.datetime(2026, 12, 8, 9, 0, tzinfo=TZ),
    ]
    # The official who issued it hears each urge too, in their own chat, @-mentioning nobody.
    official = [u for u in _urges(services) if u.channel != "fgj"]
    assert [(u.channel, u.at, u.mention_mobiles) for u in official] == [
        ("wang", u.at, []) for u in urges
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
    assert len(_urges(services)) == 4  # two urges, each to the unit's chat and the official's
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
    dry = sweep(services, monday, dry_run=True)
    assert _urges(services) == [], "a dry run queues nothing"
    # … but its report shows the urge it would queue, as the sweep would queue it.
    assert dry.instruction_urges == 1
    ((key, channel),) = [(m.message_key, m.channel) for m in dry.urge_messages]
    assert (key.startswith("instruction_urge|"), channel) == (True, "fgj")
    assert urge_instructions(services, monday, dry_run=True) == 1
    assert _urges(services) == []
    clock.now = monday
    real = sweep(services, monday)
    assert (real.instruction_urges, [m.message_key for m in real.urge_messages]) == (1, [key])
    assert [u.message_key for u in _urges(services)] == [key]
    assert urge_instructions(services, monday) == 0
    assert sweep(services, monday).instruction_urges == 0
    services.ledger.cancel(CODE, cmd.Decision(reason="并入其他任务"), OFFICE)
    later = dt.datetime(2026, 12, 21, 10, 0, tzinfo=TZ)
    assert urge_instructions(services, later) == 0
    assert len(_urges(services)) == 1


def test_the_issuing_official_hears_the_instruction_and_its_urges_in_their_own_chat(
    store_url: str, clock: FakeClock
) -> None:
    """李四 leads the task and writes a 批示; a re-import then makes 王建国 its leading official.
    The 批示's notice reaches the unit, the task's official and the one who wrote it; its urges
    reach the unit and the one who wrote it, one message per chat, never twice."""
    officials = [
        {"name": OFFICIAL, "mobile": "13900000001", "channel": "wang"},
        {"name": "李四", "mobile": "13900000002", "channel": "leaders"},
    ]
    services = county(store_url, clock, officials=officials)
    assign(services, CODE, dt.date(2027, 6, 30), official="李四")
    ref = _desk(services).issue(CODE, "请周三前报送", dt.date(2026, 12, 2), OTHER_OFFICIAL)["ref"]
    row = cmd.AssignTask(code=CODE, title=f"改革任务{CODE}", lead_unit=FGJ, official=OFFICIAL,
                         deadline=dt.date(2027, 6, 30), deadline_text="2027-06-30")  # fmt: skip
    services.ledger.import_tasks([row], OFFICE)

    queue_notices(services, START)
    told = [e for e in stored(services, "ChatMessage.Queued") if e.kind == "decision_notice"]
    assert sorted(e.channel for e in told) == ["fgj", "leaders", "wang"]
    assert all(e.title == f"领导批示｜{CODE}" for e in told)

    for moment in working_hours(dt.date(2026, 12, 3), dt.date(2026, 12, 3)):
        for _ in range(2):
            _sweep(services, clock, moment)
    urges = _urges(services)
    assert sorted((u.channel, u.mention_mobiles) for u in urges) == [
        ("fgj", [FGJ_LIAISON]),
        ("leaders", []),
    ]
    assert all(ref in u.parts[0] for u in urges)
    assert len({u.message_key for u in urges}) == 2
    # One urge in the index, whatever the chats: the next one waits its interval as before.
    (facts,) = instruction_index(services.ledger).of_task(CODE)
    assert [u["seq"] for u in facts["urges"]] == [0]


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
