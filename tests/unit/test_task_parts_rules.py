"""Co-unit reports, milestones and plan versions on the aggregates alone (no store), with
property tests for the rules that must hold for any sequence of commands."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import errors
from domain.plan_review import PlanReview, PlanStatus
from domain.task import ReformTask, co_unit_report
from tests.unit.test_task import AT, LIAISON, OFFICE, new_task

TZ = ZoneInfo("Asia/Shanghai")
CO = "liaison:县财政局/李娜"
OTHER_CO = "liaison:县审计局/周敏"


def two_co_units() -> ReformTask:
    task = new_task()
    task.revise({"co_units": ["县财政局", "县审计局"]}, OFFICE, AT, "调整配合单位")
    return task


reports = st.lists(
    st.tuples(st.sampled_from([CO, OTHER_CO]), st.integers(0, 100), st.text(min_size=1)),
    max_size=12,
)


@given(reports)
def test_co_unit_reports_never_set_the_percent_nor_need_a_claim(
    sequence: list[tuple[str, int, str]],
) -> None:
    task = two_co_units()
    for i, (actor, percent, text) in enumerate(sequence):
        task.report_progress(text, percent, [], actor, AT + dt.timedelta(hours=i))
    assert task.percent == 0
    assert task.status == "assigned"
    assert task.reports == len(sequence)
    latest: dict[str, str] = {}
    for actor, _, text in sequence:
        latest[actor.partition(":")[2].partition("/")[0]] = text
    kept = {r["unit"]: r["text"] for r in task.co_unit_reports}
    assert kept == latest  # one entry per co-unit: its latest report


def test_the_lead_unit_and_the_office_still_need_the_claim() -> None:
    for actor in (LIAISON, OFFICE, "official:王建国"):
        with pytest.raises(errors.NotClaimed):
            new_task().report_progress("x", 10, [], actor, AT)


def test_who_counts_as_a_co_unit() -> None:
    assert co_unit_report(CO, "县发展和改革局", ["县财政局"])
    assert not co_unit_report(LIAISON, "县发展和改革局", ["县财政局"])
    assert not co_unit_report("liaison:县财政局二分局/王五", "县发展和改革局", ["县财政局"])
    assert not co_unit_report("office:改革办", "县发展和改革局", ["县财政局"])
    # a unit that is both lead and co-unit reports as the lead
    assert not co_unit_report(LIAISON, "县发展和改革局", ["县发展和改革局"])


@given(st.permutations(["方案制定", "试点启动", "全面推开"]), st.integers(1, 3))
def test_milestones_close_once_each_in_the_order_reached(order: list[str], n: int) -> None:
    task = new_task()
    task.revise(
        {"milestones": [{"name": m, "due": dt.date(2024, 5, 1)} for m in order]},
        OFFICE,
        AT,
        "节点",
    )
    for name in order[:n]:
        task.close_milestone(name, "完成", "office", OFFICE, AT)
    assert task.closed_milestones == order[:n]
    with pytest.raises(errors.MilestoneAlreadyClosed):
        task.close_milestone(order[0], "再次", "office", OFFICE, AT)


def test_a_closed_task_closes_no_milestone_and_an_unknown_name_is_named() -> None:
    task = new_task()
    with pytest.raises(errors.MilestoneNotFound, match=r"「试点」.*方案制定"):
        task.close_milestone("试点", "x", "office", OFFICE, AT)
    task.cancel("撤销", OFFICE, AT)
    with pytest.raises(errors.TaskClosed):
        task.close_milestone("方案制定", "x", "office", OFFICE, AT)


def test_a_snapshot_from_before_milestones_could_close_answers_none() -> None:
    task = new_task()
    del task.__dict__["_closed_milestones"]
    del task.__dict__["_co_unit_reports"]
    assert task.closed_milestones == []
    assert task.co_unit_reports == []
    task.close_milestone("方案制定", "完成", "office", OFFICE, AT)
    assert task.closed_milestones == ["方案制定"]


def test_a_report_naming_a_milestone_records_both_facts_or_neither() -> None:
    task = new_task()
    task.claim(LIAISON, AT)
    task.collect_events()
    with pytest.raises(errors.MilestoneNotYours):
        task.report_progress("x", 50, [], CO, AT, milestone="方案制定")
    assert task.collect_events() == []
    task.report_progress("方案已印发", 50, [], LIAISON, AT, milestone="方案制定")
    events = task.collect_events()
    assert [type(e).__name__ for e in events] == ["ProgressReported", "MilestoneClosed"]
    assert events[1].__dict__["via"] == "report"


def new_plan() -> PlanReview:
    return PlanReview(
        plan_code="P-01",
        title="第1稿",
        unit="县发展和改革局",
        task_code="2024-01",
        actor=LIAISON,
        at=AT,
        milestone="方案制定",
        text="初稿",
    )


@given(st.integers(0, 5))
def test_every_return_and_resubmission_is_kept_as_a_version(rounds: int) -> None:
    plan = new_plan()
    for i in range(rounds):
        plan.return_plan(f"退回{i}", OFFICE, AT)
        plan.resubmit(f"第{i + 2}稿", f"修改{i}", LIAISON, AT)
    plan.approve("同意", OFFICE, AT)
    assert plan.status == PlanStatus.APPROVED
    assert plan.revision == rounds + 1
    assert [v["title"] for v in plan.versions] == [f"第{i + 1}稿" for i in range(rounds + 1)]
    assert [r["reason"] for r in plan.reviews] == [f"退回{i}" for i in range(rounds)] + ["同意"]
    assert [r["version"] for r in plan.reviews] == [*range(1, rounds + 1), rounds + 1]


def test_only_a_returned_plan_is_resubmitted() -> None:
    plan = new_plan()
    with pytest.raises(errors.PlanReviewError, match="只有被退回"):
        plan.resubmit("x", "", LIAISON, AT)
    plan.approve("同意", OFFICE, AT)
    with pytest.raises(errors.PlanReviewError, match="已通过"):
        plan.resubmit("x", "", LIAISON, AT)
