"""The ledger's behaviour on a real store: runs once on an SQLite file and once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from domain import errors
from domain.roles import Forbidden, Identity
from duban.app import commands as cmd
from duban.app.errors import Conflict, InvalidRequest, PlanNotFound
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from tests.conftest import FakeClock

OFFICE = Identity("office", "改革办")
LEAD = Identity("liaison", "张伟", unit="县发展和改革局")
CO = Identity("liaison", "李娜", unit="县财政局")
OTHER = Identity("liaison", "赵磊", unit="县教育局")
AUDITOR = Identity("auditor", "县纪委监委督查室")


def assignment(code: str = "2024-01", **overrides: object) -> cmd.AssignTask:
    data: dict[str, object] = {
        "code": code,
        "title": "深化“项目攻坚突破年”活动，专班推进、清单管理",
        "lead_unit": "县发展和改革局",
        "co_units": ("县财政局",),
        "official": "王建国",
        "group": "经济体制和生态文明体制改革专责小组",
        "area": "稳增长",
        "deadline": dt.date(2024, 6, 30),
        "deadline_text": "2024年6月底",
        "milestones": (cmd.Milestone(name="方案制定", due=dt.date(2024, 3, 31)),),
    }
    data.update(overrides)
    return cmd.AssignTask.model_validate(data)


@pytest.fixture
def ledger(store_url: str, clock: FakeClock) -> Iterator[Ledger]:
    app = open_ledger(store_url, clock)
    yield app
    app.close()


def types(ledger: Ledger, code: str = "2024-01") -> list[str]:
    return [e["type"].split(".")[-1] for e in ledger.task_history(code, OFFICE)]


def test_lifecycle_through_the_store(ledger: Ledger, clock: FakeClock) -> None:
    ledger.assign(assignment(), OFFICE)
    clock.advance(days=1)
    ledger.claim("2024-01", LEAD)
    ledger.report("2024-01", cmd.ReportProgress(text="方案起草", percent=20), LEAD)
    ledger.report("2024-01", cmd.ReportProgress(text="配合测算资金", percent=25), CO)
    ledger.request_extension(
        "2024-01", cmd.RequestExtension(new_deadline=dt.date(2024, 9, 30), reason="用地未批"), LEAD
    )
    ledger.grant_extension("2024-01", cmd.DecideExtension(reason="同意"), OFFICE)
    ledger.submit_completion("2024-01", cmd.SubmitCompletion(summary="已完成"), LEAD)
    ledger.accept_completion("2024-01", cmd.Decision(reason="同意销号"), OFFICE)
    history = ledger.task_history("2024-01", AUDITOR)
    assert types(ledger) == [
        "Assigned", "Claimed", "ProgressReported", "ProgressReported", "ExtensionRequested",
        "ExtensionGranted", "CompletionSubmitted", "CompletionAccepted",
    ]  # fmt: skip
    assert history[1]["actor"] == "liaison:县发展和改革局/张伟"
    assert history[1]["at"] == clock.now
    assert history[3]["actor"] == "liaison:县财政局/李娜"
    state = ledger.task("2024-01", AUDITOR)
    assert state["status"] == "completed"
    assert state["deadline"] == dt.date(2024, 9, 30)
    assert state["milestones"] == [{"name": "方案制定", "due": dt.date(2024, 3, 31)}]


def test_assigning_the_same_code_twice_is_a_conflict(ledger: Ledger) -> None:
    ledger.assign(assignment(), OFFICE)
    with pytest.raises(Conflict):
        ledger.assign(assignment(), OFFICE)


def test_unknown_task_is_named(ledger: Ledger) -> None:
    with pytest.raises(errors.TaskNotFound, match="2099-99"):
        ledger.claim("2099-99", LEAD)


def test_roles_are_enforced(ledger: Ledger) -> None:
    ledger.assign(assignment(), OFFICE)
    with pytest.raises(Forbidden):
        ledger.claim("2024-01", CO)  # only the lead unit claims
    with pytest.raises(Forbidden):
        ledger.claim("2024-01", OTHER)
    ledger.claim("2024-01", LEAD)
    with pytest.raises(Forbidden):
        ledger.report("2024-01", cmd.ReportProgress(text="x", percent=1), OTHER)
    with pytest.raises(Forbidden):
        ledger.report("2024-01", cmd.ReportProgress(text="x", percent=1), AUDITOR)
    with pytest.raises(Forbidden):
        ledger.cancel("2024-01", cmd.Decision(reason="x"), LEAD)
    with pytest.raises(Forbidden):
        ledger.assign(assignment("2024-02"), LEAD)
    assert types(ledger) == ["Assigned", "Claimed"]


def test_import_is_all_or_nothing_and_idempotent(ledger: Ledger) -> None:
    rows = [assignment("2024-01"), assignment("2024-02", lead_unit="县财政局", co_units=())]
    changes = ledger.import_tasks(rows, OFFICE)
    assert [c.action for c in changes] == ["create", "create"]
    before = ledger.recorder.max_notification_id()
    again = ledger.import_tasks(rows, OFFICE)
    assert [c.action for c in again] == ["unchanged", "unchanged"]
    assert ledger.recorder.max_notification_id() == before
    edited = [rows[0], assignment("2024-02", lead_unit="县财政局", co_units=("县审计局",))]
    dry = ledger.import_tasks(edited, OFFICE, dry_run=True)
    assert ledger.recorder.max_notification_id() == before
    assert dry[1].changes == {"co_units": ["县审计局"]}
    ledger.import_tasks(edited, OFFICE)
    assert ledger.recorder.max_notification_id() == before + 1
    assert types(ledger, "2024-02")[-1] == "Revised"


def test_concurrent_reports_are_all_kept_and_decisions_conflict(ledger: Ledger) -> None:
    ledger.assign(assignment(), OFFICE)
    ledger.claim("2024-01", LEAD)
    writers, reports_each = 4, 10
    failures: list[BaseException] = []

    def report(n: int) -> None:
        try:
            for i in range(reports_each):
                text = f"writer {n} report {i}"
                ledger.report("2024-01", cmd.ReportProgress(text=text, percent=i), LEAD)
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    reports = [e for e in ledger.task_history("2024-01", OFFICE) if e["type"].endswith("Reported")]
    assert sorted(e["text"] for e in reports) == sorted(
        f"writer {n} report {i}" for n in range(writers) for i in range(reports_each)
    )

    ledger.request_extension(
        "2024-01", cmd.RequestExtension(new_deadline=dt.date(2024, 9, 30), reason="x"), LEAD
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(grant: bool) -> None:
        decision = cmd.DecideExtension(reason="决定")
        barrier.wait()
        try:
            if grant:
                ledger.grant_extension("2024-01", decision, OFFICE)
            else:
                ledger.deny_extension("2024-01", decision, OFFICE)
            outcomes.append("ok")
        except (Conflict, errors.NoPendingExtension) as exc:
            outcomes.append(type(exc).__name__)

    deciders = [threading.Thread(target=decide, args=(g,)) for g in (True, False)]
    for t in deciders:
        t.start()
    for t in deciders:
        t.join()
    assert sorted(outcomes)[1] == "ok"
    assert sorted(outcomes)[0] in ("Conflict", "NoPendingExtension")
    decisions = [t for t in types(ledger) if t in ("ExtensionGranted", "ExtensionDenied")]
    assert len(decisions) == 1


def test_directory_changes_are_recorded_once(ledger: Ledger) -> None:
    from duban.settings.config import parse_config

    channels = [{"name": n, "platform": "console"} for n in ("office", "leaders", "fgj")]
    liaison = {"name": "张伟", "mobile": "13800000001"}
    official = {"name": "王建国", "title": "副县长", "mobile": "13900000001", "channel": "leaders"}
    raw = {
        "channels": channels,
        "units": [{"name": "县发展和改革局", "channel": "fgj", "liaisons": [liaison]}],
        "officials": [official],
    }
    config = parse_config(raw)
    assert ledger.reconcile_directory(config, OFFICE) == 5
    assert ledger.reconcile_directory(config, OFFICE) == 0
    raw["units"][0]["liaisons"] = [{"name": "陈静", "mobile": "13800000002"}]  # type: ignore[index]
    assert ledger.reconcile_directory(parse_config(raw), OFFICE) == 1


def test_plans_are_submitted_for_the_right_unit_and_a_missing_plan_is_named(
    ledger: Ledger,
) -> None:
    ledger.submit_plan("FA-1", "营商环境改革方案", None, None, LEAD)  # a liaison's own unit
    assert ledger.plan("FA-1", AUDITOR)["unit"] == "县发展和改革局"
    with pytest.raises(Forbidden):  # a liaison submits only for their own unit
        ledger.submit_plan("FA-2", "方案", "县教育局", None, LEAD)
    with pytest.raises(InvalidRequest):  # anyone else names the unit
        ledger.submit_plan("FA-3", "方案", None, None, OFFICE)
    with pytest.raises(PlanNotFound):
        ledger.review_plan("FA-none", "opinion", "请补充", OFFICE)
    assert ledger.review_plan("FA-1", "approve", "同意", OFFICE) == "approved"
    assert [p["plan_code"] for p in ledger.plans(AUDITOR)] == ["FA-1"]


def test_a_commit_whose_acknowledgement_was_lost_is_not_applied_twice(ledger: Ledger) -> None:
    """The database committed, the connection broke before it said so, and the driver's retry
    of the same insert hit our own rows: the report must be stored once, not re-applied."""
    from eventsourcing.persistence import IntegrityError

    ledger.assign(assignment(), OFFICE)
    ledger.claim("2024-01", LEAD)
    recorder = ledger.events.recorder
    real_insert = recorder.insert_events
    calls = {"n": 0}

    def insert_then_lose_the_answer(stored_events: object, **kwargs: object) -> object:
        calls["n"] += 1
        result = real_insert(stored_events, **kwargs)  # type: ignore[arg-type]
        if calls["n"] == 1:
            raise IntegrityError("duplicate key (the retry of a committed insert)")
        return result

    recorder.insert_events = insert_then_lose_the_answer  # type: ignore[method-assign]
    try:
        ledger.report("2024-01", cmd.ReportProgress(text="只报一次", percent=40), LEAD)
    finally:
        recorder.insert_events = real_insert  # type: ignore[method-assign]
    reports = [e for e in ledger.task_history("2024-01", OFFICE) if e["type"].endswith("Reported")]
    assert [e["text"] for e in reports] == ["只报一次"]
    assert calls["n"] == 1


def test_loading_a_task_reads_from_its_snapshot_not_its_whole_history(ledger: Ledger) -> None:
    """Cost must not grow with history: a task with 130 events loads from its latest snapshot
    (one every 50 events) plus the events after it."""
    ledger.assign(assignment(), OFFICE)
    ledger.claim("2024-01", LEAD)
    for i in range(128):
        ledger.report("2024-01", cmd.ReportProgress(text=f"第{i}次", percent=i % 101), LEAD)
    recorder = ledger.events.recorder
    real_select = recorder.select_events
    read: list[int] = []

    def counting(*args: object, **kwargs: object) -> object:
        events = real_select(*args, **kwargs)  # type: ignore[arg-type]
        read.append(len(events))
        return events

    recorder.select_events = counting  # type: ignore[method-assign]
    try:
        state = ledger.task("2024-01", OFFICE)
    finally:
        recorder.select_events = real_select  # type: ignore[method-assign]
    assert state["reports"] == 128
    assert state["version"] == 130
    assert sum(read) < 50


def test_a_reports_success_text_comes_from_the_task_as_saved_without_a_reload(
    ledger: Ledger,
) -> None:
    """The lead unit's report sets the percent; a co-unit's and the leading official's say
    they do not, with the task's percent as their own save left it. No load after the save."""
    from duban.app import task_commands as tc

    ledger.assign(assignment(), OFFICE)
    ledger.claim("2024-01", LEAD)
    official = Identity("official", "王建国")
    recorder = ledger.events.recorder
    real_select = recorder.select_events
    read: list[object] = []

    def counting(*args: object, **kwargs: object) -> object:
        read.append(args)
        return real_select(*args, **kwargs)  # type: ignore[arg-type]

    def said(who: Identity, percent: int) -> str:
        body = cmd.ReportProgress(text="推进中", percent=percent)
        return tc.REPORT.run(ledger, "2024-01", body, who)

    assert said(LEAD, 40) == "2024-01 进展已报送（40%）"
    recorder.select_events = counting  # type: ignore[method-assign]
    try:
        assert said(CO, 70) == "2024-01 配合单位进展已报送（县财政局，本单位进度70%）"
        assert said(official, 90) == "2024-01 进展已报送（不改变任务进度，任务进度仍为40%）"
    finally:
        recorder.select_events = real_select  # type: ignore[method-assign]
    assert read == []
