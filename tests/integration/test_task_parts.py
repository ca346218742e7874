"""Issue 12, acceptance 3–5 at the ledger level on a real SQLite store: milestones closed by a
report, by the office and by a plan's approval; co-units reporting before the lead unit claims
(the board and the monthly report show it); a returned plan resubmitted and approved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain import errors
from domain.calendar import WorkingCalendar
from domain.roles import Forbidden, Identity
from duban.app import commands as cmd
from duban.app.errors import Conflict, InvalidRequest
from duban.app.ledger import Ledger
from duban.app.report_markdown import render_markdown
from duban.app.services import open_ledger
from projections.report_monthly import monthly_analysis
from projections.reports import ReportContext
from projections.views import open_views
from tests.conftest import FakeClock

OFFICE = Identity("office", "王主任")
LEAD = Identity("liaison", "张伟", unit="县发展和改革局")
CO = Identity("liaison", "李娜", unit="县财政局")
OTHER = Identity("liaison", "赵磊", unit="县教育局")
CAL = WorkingCalendar()
REVIEW = "完成方案前置初审"
DRAFT = "完成方案制定"


@pytest.fixture
def ledger(tmp_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    app = open_ledger(f"sqlite:///{tmp_path / 'duban.db'}", clock)
    app.assign(
        cmd.AssignTask.model_validate(
            {
                "code": "2024-01",
                "title": "深化国有企业改革",
                "lead_unit": "县发展和改革局",
                "co_units": ("县财政局",),
                "deadline": dt.date(2024, 12, 31),
                "milestones": (
                    cmd.Milestone(name=REVIEW, due=dt.date(2024, 4, 30)),
                    cmd.Milestone(name=DRAFT, due=dt.date(2024, 6, 30)),
                ),
            }
        ),
        OFFICE,
    )
    yield app
    app.close()


def board_row(ledger: Ledger, today: dt.date) -> dict[str, object]:
    views = open_views(ledger, CAL)
    views.catch_up(ledger)
    (row,) = views.board.rows(today)
    return row


# ---- acceptance 3: milestones --------------------------------------------------------------


def test_a_lead_units_report_naming_a_milestone_closes_it(ledger: Ledger, clock: FakeClock) -> None:
    ledger.claim("2024-01", LEAD)
    report = cmd.ReportProgress(text="方案已通过初审", percent=30, milestone=REVIEW)
    ledger.report("2024-01", report, LEAD)
    state = ledger.task("2024-01", OFFICE)
    assert state["closed_milestones"] == [REVIEW]
    assert state["percent"] == 30
    closed = ledger.task_history("2024-01", OFFICE)[-1]
    assert closed["type"] == "ReformTask.MilestoneClosed"
    assert (closed["name"], closed["via"], closed["actor"]) == (REVIEW, "report", LEAD.actor)
    assert closed["reason"] == "方案已通过初审"
    row = board_row(ledger, dt.date(2024, 3, 1))
    assert row["closed_milestones"] == [REVIEW]
    # the next milestone shown is the next one not reached
    assert row["next_milestone"] == {"name": DRAFT, "due": "2024-06-30"}


def test_a_co_unit_cannot_close_a_milestone_and_nothing_is_recorded(ledger: Ledger) -> None:
    ledger.claim("2024-01", LEAD)
    before = len(ledger.task_history("2024-01", OFFICE))
    with pytest.raises(errors.MilestoneNotYours, match="牵头单位"):
        ledger.report("2024-01", cmd.ReportProgress(text="x", percent=0, milestone=REVIEW), CO)
    with pytest.raises(errors.MilestoneNotFound, match="没有名为「不存在」"):
        ledger.report("2024-01", cmd.ReportProgress(text="x", percent=0, milestone="不存在"), LEAD)
    assert len(ledger.task_history("2024-01", OFFICE)) == before


def test_the_office_closes_a_milestone_once(ledger: Ledger) -> None:
    ledger.close_milestone("2024-01", cmd.CloseMilestone(name=DRAFT, reason="会议纪要确认"), OFFICE)
    assert ledger.task("2024-01", OFFICE)["closed_milestones"] == [DRAFT]
    with pytest.raises(errors.MilestoneAlreadyClosed, match="已完成"):
        ledger.close_milestone("2024-01", cmd.CloseMilestone(name=DRAFT, reason="再次"), OFFICE)
    with pytest.raises(Forbidden):
        ledger.close_milestone("2024-01", cmd.CloseMilestone(name=REVIEW, reason="x"), LEAD)


def test_a_plan_approval_closes_its_linked_milestone_in_the_same_save(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.submit_plan("P-01", "国企改革实施方案", None, "2024-01", LEAD, milestone=REVIEW)
    before = ledger.recorder.max_notification_id()
    clock.advance(days=1)
    assert ledger.review_plan("P-01", "approve", "同意提交审议", OFFICE) == "approved"
    stored = ledger.recorder.select_notifications(before or 0, 10, inclusive_of_start=False)
    assert [n.topic.rsplit(".", 1)[-1] for n in stored] == ["Approved", "MilestoneClosed"]
    closed = ledger.task_history("2024-01", OFFICE)[-1]
    assert (closed["name"], closed["via"], closed["actor"]) == (REVIEW, "plan", OFFICE.actor)
    assert "P-01" in closed["reason"]
    assert "同意提交审议" in closed["reason"]
    assert ledger.task("2024-01", OFFICE)["closed_milestones"] == [REVIEW]


def test_a_plan_is_linked_only_to_a_milestone_its_task_has(ledger: Ledger) -> None:
    with pytest.raises(errors.MilestoneNotFound, match="没有名为「无此节点」"):
        ledger.submit_plan("P-02", "方案", None, "2024-01", LEAD, milestone="无此节点")
    with pytest.raises(errors.TaskNotFound):
        ledger.submit_plan("P-02", "方案", None, "2099-99", LEAD, milestone=REVIEW)
    with pytest.raises(InvalidRequest, match="任务编号"):
        ledger.submit_plan("P-02", "方案", None, None, LEAD, milestone=REVIEW)


def test_approving_a_plan_whose_milestone_is_already_closed_keeps_the_approval(
    ledger: Ledger,
) -> None:
    ledger.submit_plan("P-03", "方案", None, "2024-01", LEAD, milestone=DRAFT)
    ledger.close_milestone("2024-01", cmd.CloseMilestone(name=DRAFT, reason="已完成"), OFFICE)
    assert ledger.review_plan("P-03", "approve", "同意", OFFICE) == "approved"
    assert ledger.task("2024-01", OFFICE)["closed_milestones"] == [DRAFT]


# ---- acceptance 4: co-units ----------------------------------------------------------------


def test_a_co_unit_reports_before_the_lead_unit_claims(ledger: Ledger, clock: FakeClock) -> None:
    clock.advance(days=3)  # 2024-03-04 10:00
    ledger.report("2024-01", cmd.ReportProgress(text="已测算配套资金", percent=80), CO)
    state = ledger.task("2024-01", OFFICE)
    assert state["status"] == "assigned"
    assert state["percent"] == 0  # a co-unit's report never sets the percent
    assert state["co_unit_reports"] == [
        {
            "unit": "县财政局",
            "by": CO.actor,
            "at": clock.now,
            "text": "已测算配套资金",
            "percent": 80,
        }
    ]
    with pytest.raises(errors.NotClaimed):  # the lead unit still claims first
        ledger.report("2024-01", cmd.ReportProgress(text="x", percent=10), LEAD)
    with pytest.raises(errors.NotClaimed):
        ledger.submit_completion("2024-01", cmd.SubmitCompletion(summary="x"), LEAD)
    with pytest.raises(Forbidden):  # a unit with no part in the task
        ledger.report("2024-01", cmd.ReportProgress(text="x", percent=10), OTHER)

    row = board_row(ledger, dt.date(2024, 3, 5))
    assert row["percent"] == 0
    assert row["co_unit_reports"] == [
        {
            "unit": "县财政局",
            "by": CO.actor,
            "at": clock.now.isoformat(),
            "text": "已测算配套资金",
            "percent": 80,  # the co-unit's own progress, kept with its report
        }
    ]

    views = open_views(ledger, CAL)
    views.catch_up(ledger)
    report = monthly_analysis(ReportContext(views.reports, CAL, 5), "2024-03")
    assert report["co_unit_reports"] == [
        {
            "task_code": "2024-01",
            "lead_unit": "县发展和改革局",
            "unit": "县财政局",
            "by": CO.actor,
            "by_label": "县财政局 李娜",
            "at": clock.now.isoformat(),
            "day": "2024-03-04",
            "text": "已测算配套资金",
        }
    ]
    text = render_markdown(report)
    assert "配合单位报送" in text
    assert "2024年3月4日 2024-01 县财政局 李娜：已测算配套资金" in text
    # the month before shows none
    assert (
        monthly_analysis(ReportContext(views.reports, CAL, 5), "2024-02")["co_unit_reports"] == []
    )


def test_a_co_units_later_report_replaces_its_earlier_one(ledger: Ledger, clock: FakeClock) -> None:
    ledger.report("2024-01", cmd.ReportProgress(text="第一次", percent=10), CO)
    clock.advance(days=5)
    ledger.report("2024-01", cmd.ReportProgress(text="第二次", percent=20), CO)
    assert [r["text"] for r in ledger.task("2024-01", OFFICE)["co_unit_reports"]] == ["第二次"]
    row = board_row(ledger, dt.date(2024, 3, 8))
    assert [r["text"] for r in row["co_unit_reports"]] == ["第二次"]  # type: ignore[attr-defined]
    assert [r["percent"] for r in row["co_unit_reports"]] == [20]  # type: ignore[attr-defined]
    assert [r["percent"] for r in ledger.task("2024-01", OFFICE)["co_unit_reports"]] == [20]


# ---- acceptance 5: 前置初审 -----------------------------------------------------------------


def test_a_returned_plan_is_resubmitted_and_approved_with_both_versions_and_reasons(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.submit_plan("P-01", "国企改革方案（送审稿）", None, "2024-01", LEAD, text="初稿")
    clock.advance(days=1)
    ledger.review_plan("P-01", "opinion", "请补充资金测算", Identity("office", "李科长"))
    clock.advance(days=1)
    assert ledger.review_plan("P-01", "return", "缺少资金测算，退回修改", OFFICE) == "returned"
    with pytest.raises(errors.PlanReviewError, match="请修改后重新报送"):
        ledger.review_plan("P-01", "approve", "同意", OFFICE)
    with pytest.raises(Conflict, match="重新报送"):  # the same code again is not the way
        ledger.submit_plan("P-01", "国企改革方案", None, "2024-01", LEAD)
    with pytest.raises(Forbidden):
        ledger.resubmit_plan("P-01", None, "x", OTHER)
    clock.advance(days=2)
    assert ledger.resubmit_plan("P-01", "国企改革方案（修改稿）", "补充资金测算", LEAD) == 2
    with pytest.raises(errors.PlanReviewError, match="只有被退回"):
        ledger.resubmit_plan("P-01", None, "再次", LEAD)
    clock.advance(days=1)
    assert ledger.review_plan("P-01", "approve", "同意提交审议", OFFICE) == "approved"

    plan = ledger.plan("P-01", OFFICE)
    assert plan["revision"] == 2
    assert plan["title"] == "国企改革方案（修改稿）"
    assert [(v["version"], v["title"], v["text"], v["by"]) for v in plan["versions"]] == [
        (1, "国企改革方案（送审稿）", "初稿", LEAD.actor),
        (2, "国企改革方案（修改稿）", "补充资金测算", LEAD.actor),
    ]
    assert [(r["kind"], r["reason"], r["by"], r["version"]) for r in plan["reviews"]] == [
        ("opinion", "请补充资金测算", "office:李科长", 1),
        ("return", "缺少资金测算，退回修改", OFFICE.actor, 1),
        ("approve", "同意提交审议", OFFICE.actor, 2),
    ]
    assert [r["at"] for r in plan["reviews"]] == sorted(r["at"] for r in plan["reviews"])

    views = open_views(ledger, CAL)
    views.catch_up(ledger)
    summaries = [e["summary"] for e in views.audit.entries()]
    assert (
        "县发展和改革局 张伟 修改后重新报送方案「国企改革方案（修改稿）」：补充资金测算"
        in summaries
    )
    assert "王主任 初审退回：缺少资金测算，退回修改" in summaries
    plans = monthly_analysis(ReportContext(views.reports, CAL, 5), "2024-03")["plans"]
    assert plans["items"][0]["title"] == "国企改革方案（修改稿）"
    assert plans["items"][0]["status"] == "approved"


def test_the_audit_trail_says_in_chinese_how_a_milestone_closed(ledger: Ledger) -> None:
    ledger.close_milestone("2024-01", cmd.CloseMilestone(name=DRAFT, reason="纪要确认"), OFFICE)
    views = open_views(ledger, CAL)
    views.catch_up(ledger)
    (entry,) = [e for e in views.audit.entries("2024-01") if e["type"].endswith("MilestoneClosed")]
    assert entry["summary"] == f"王主任 确认阶段节点「{DRAFT}」完成（改革办确认）：纪要确认"


# ---- old stores ----------------------------------------------------------------------------


def test_plans_and_tasks_of_the_golden_store_replay_with_versions_and_reasons(
    tmp_path: Path, clock: FakeClock
) -> None:
    from tests.golden.make_golden import STORE

    store = tmp_path / "store.db"
    store.write_bytes(STORE.read_bytes())
    old = open_ledger(f"sqlite:///{store}", clock)
    try:
        (plan,) = old.plans(OFFICE)
        assert plan["revision"] == 1
        assert plan["milestone"] is None
        assert [v["version"] for v in plan["versions"]] == [1]
        kinds = [r["kind"] for r in plan["reviews"]]
        assert kinds == ["opinion", "approve"]
        assert all(r["reason"] and r["by"].startswith("office") for r in plan["reviews"])
        for code in old.task_codes():
            assert old.task(code, OFFICE)["closed_milestones"] == []
    finally:
        old.close()
