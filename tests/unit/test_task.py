"""The reform task's lifecycle rules, on the aggregate alone (no store)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain import errors
from domain.task import ReformTask, TaskStatus

TZ = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2024, 3, 1, 10, 0, tzinfo=TZ)
OFFICE = "office:改革办"
LIAISON = "liaison:县发展和改革局/张伟"


def new_task(deadline: dt.date | None = dt.date(2024, 6, 30)) -> ReformTask:
    return ReformTask(
        code="2024-01",
        title="深化“项目攻坚突破年”活动",
        lead_unit="县发展和改革局",
        co_units=["县财政局"],
        official="王建国",
        group="经济体制和生态文明体制改革专责小组",
        area="稳增长",
        deadline=deadline,
        deadline_text="2024年6月底",
        milestones=[{"name": "方案制定", "due": dt.date(2024, 3, 31)}],
        notes="",
        actor=OFFICE,
        at=AT,
    )


def claimed(deadline: dt.date | None = dt.date(2024, 6, 30)) -> ReformTask:
    task = new_task(deadline)
    task.claim(LIAISON, AT)
    return task


def event_names(task: ReformTask) -> list[str]:
    return [type(e).__name__ for e in task.collect_events()]


def test_full_lifecycle_records_each_fact_once_with_actor_and_time() -> None:
    task = new_task()
    task.claim(LIAISON, AT)
    task.report_progress("方案已起草", 30, ["https://example.org/a"], LIAISON, AT)
    task.request_extension(dt.date(2024, 8, 31), "土地指标未下达", LIAISON, AT)
    task.grant_extension("同意", OFFICE, AT)
    task.submit_completion("已完成", [], LIAISON, AT)
    task.return_completion("佐证材料不足", OFFICE, AT)
    task.submit_completion("补充材料", [], LIAISON, AT)
    task.accept_completion("同意销号", OFFICE, AT)
    task.recognise("exemplar", "provincial", "省级改革典型", OFFICE, AT)
    events = task.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Assigned", "Claimed", "ProgressReported", "ExtensionRequested", "ExtensionGranted",
        "CompletionSubmitted", "CompletionReturned", "CompletionSubmitted", "CompletionAccepted",
        "Recognised",
    ]  # fmt: skip
    assert all(e.__dict__["at"] == AT for e in events)
    assert [e.__dict__["actor"] for e in events][:3] == [OFFICE, LIAISON, LIAISON]
    assert task.status == TaskStatus.COMPLETED
    assert task.deadline == dt.date(2024, 8, 31)
    assert task.completed_on_time is True


def test_extension_denied_keeps_deadline() -> None:
    task = claimed()
    task.request_extension(dt.date(2024, 9, 30), "原因", LIAISON, AT)
    task.deny_extension("理由不充分", OFFICE, AT)
    assert task.deadline == dt.date(2024, 6, 30)
    assert task.pending_extension is None
    assert event_names(task)[-2:] == ["ExtensionRequested", "ExtensionDenied"]


def test_submission_after_deadline_is_late() -> None:
    task = claimed(dt.date(2024, 2, 28))
    task.submit_completion("完成", [], LIAISON, AT)
    task.accept_completion("同意", OFFICE, AT)
    assert task.completed_on_time is False


def test_ongoing_task_cannot_be_extended() -> None:
    task = claimed(deadline=None)
    with pytest.raises(errors.NoDeadline):
        task.request_extension(dt.date(2025, 1, 1), "x", LIAISON, AT)


def test_second_claim_is_refused() -> None:
    task = claimed()
    with pytest.raises(errors.AlreadyClaimed, match="不能重复签收"):
        task.claim(LIAISON, AT)


def test_report_before_claim_is_refused() -> None:
    with pytest.raises(errors.NotClaimed):
        new_task().report_progress("x", 10, [], LIAISON, AT)


def test_extension_to_an_earlier_or_same_date_is_refused() -> None:
    task = claimed()
    with pytest.raises(errors.ExtensionDateNotLater):
        task.request_extension(dt.date(2024, 6, 30), "x", LIAISON, AT)
    with pytest.raises(errors.ExtensionDateNotLater):
        task.request_extension(dt.date(2024, 5, 1), "x", LIAISON, AT)


def test_second_pending_extension_is_refused() -> None:
    task = claimed()
    task.request_extension(dt.date(2024, 9, 30), "x", LIAISON, AT)
    with pytest.raises(errors.ExtensionAlreadyPending):
        task.request_extension(dt.date(2024, 10, 30), "y", LIAISON, AT)


def test_grant_or_deny_without_request_is_refused() -> None:
    task = claimed()
    with pytest.raises(errors.NoPendingExtension):
        task.grant_extension("x", OFFICE, AT)
    with pytest.raises(errors.NoPendingExtension):
        task.deny_extension("x", OFFICE, AT)


def test_accept_or_return_without_submission_is_refused() -> None:
    task = claimed()
    with pytest.raises(errors.CompletionNotSubmitted, match="尚未申请办结"):
        task.accept_completion("x", OFFICE, AT)
    with pytest.raises(errors.CompletionNotSubmitted):
        task.return_completion("x", OFFICE, AT)


def test_double_submission_is_refused() -> None:
    task = claimed()
    task.submit_completion("x", [], LIAISON, AT)
    with pytest.raises(errors.CompletionAlreadySubmitted):
        task.submit_completion("x", [], LIAISON, AT)


@pytest.mark.parametrize("closing", ["accept", "cancel"])
def test_closed_task_refuses_everything_but_recognition(closing: str) -> None:
    task = claimed()
    if closing == "accept":
        task.submit_completion("x", [], LIAISON, AT)
        task.accept_completion("ok", OFFICE, AT)
    else:
        task.cancel("机构调整，任务取消", OFFICE, AT)
    with pytest.raises(errors.TaskClosed):
        task.report_progress("x", 10, [], LIAISON, AT)
    with pytest.raises(errors.TaskClosed):
        task.cancel("again", OFFICE, AT)
    with pytest.raises(errors.TaskClosed):
        task.record_escalation("urge", "deadline", dt.date(2024, 6, 30), "k", "system:x", AT)
    task.recognise("pilot", "national", "国家级试点", OFFICE, AT)
    assert task.recognitions[-1]["level"] == "national"


def test_revise_records_only_changed_facts() -> None:
    task = new_task()
    task.collect_events()
    facts = task.assignment()
    facts["co_units"] = ["县财政局", "县自然资源局"]
    task.revise(facts, OFFICE, AT, "重新导入")
    (revised,) = task.collect_events()
    assert revised.__dict__["changes"] == {"co_units": ["县财政局", "县自然资源局"]}
    assert revised.__dict__["previous"] == {"co_units": ["县财政局"]}
    task.revise(facts, OFFICE, AT, "重新导入")
    assert task.collect_events() == []


def test_reimport_does_not_undo_a_granted_extension() -> None:
    task = claimed()
    facts = task.assignment()
    task.request_extension(dt.date(2024, 9, 30), "x", LIAISON, AT)
    task.grant_extension("同意", OFFICE, AT)
    task.collect_events()
    task.revise(facts, OFFICE, AT, "重新导入")
    assert task.collect_events() == []
    assert task.deadline == dt.date(2024, 9, 30)


def test_only_the_lead_unit_or_the_office_sets_the_percent() -> None:
    """A co-unit's report is recorded as its contribution; the percent stays the lead's."""
    task = claimed()
    co_unit = "liaison:县财政局/李娜"
    task.report_progress("配合测算资金", 100, [], co_unit, AT)
    assert (task.percent, task.reports) == (0, 1)
    task.report_progress("方案已起草", 30, [], LIAISON, AT)
    assert task.percent == 30
    task.report_progress("已审核，调整进度", 40, [], OFFICE, AT)
    assert task.percent == 40
    task.report_progress("调度会要求加快", 90, [], "official:王建国", AT)
    # a unit whose name starts like the lead's is still another unit
    task.report_progress("同名前缀", 95, [], "liaison:县发展和改革局二分局/王五", AT)
    assert task.percent == 40
    reported = [e for e in task.collect_events() if type(e).__name__ == "ProgressReported"]
    assert [e.percent for e in reported] == [100, 30, 40, 90, 95]  # every report is recorded
