"""Acceptance 6 (issue 12): the assessment's new rules over a scripted year, worked by hand.

A county of four units (县发展和改革局 FGJ, 县财政局 CZJ, 县教育局 JYJ, 县审计局 SJJ), 2025,
on SQLite through the Ledger with an injected clock:

| task | lead | co-units | deadline   | what happens                                           |
|------|------|----------|------------|--------------------------------------------------------|
| T1   | FGJ  | CZJ, JYJ | 2025-12-15 | still open on 12-31                                    |
| T2   | CZJ  | FGJ, JYJ | 2025-12-20 | FGJ's liaison reports on it 11-20; completed 12-18     |
| T3   | JYJ  | —        | 2025-12-31 | still open on 12-31 (its deadline has not passed then) |

Assigned Wed 11-12 10:00, claimed 11-13. November's round is due Mon 11-10 (first working
day Mon 11-03, then 04, 05, 06, 07, 10): the tasks came after it and owe nothing. December's
round is due Mon 12-08 (first working day Mon 12-01, then 02, 03, 04, 05, 08): each lead unit
reports on 12-03, on time. No sweep runs: no 督办 or 通报.

批示 (issued 12-01 on each task to its lead unit):
* T1 answer by 12-05, never answered → FGJ −1;
* T2 answer by 12-10, answered 12-09 → nothing;
* T3 answer by 12-10, answered only 12-12 → JYJ −1.

问责: 12-22 通报批评 of FGJ for T1 (县改办〔2025〕7号) −3; 12-23 约谈 of JYJ for T1
(县改办〔2025〕8号) −2.

SJJ leads or co-leads no task: 无任务, unranked.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from openpyxl import load_workbook

from domain.accountability import AccountabilityMeasure
from domain.instruction import Instruction
from domain.report_round import round_due_date
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.report_docs import render_html, render_markdown, write_xlsx
from duban.app.report_kinds import report_context
from duban.app.services import Services
from projections.report_annual import annual_assessment
from projections.report_quarterly import quarterly_dispatch
from tests.conftest import TZ, FakeClock
from tests.support.cli_zygote import run_cli
from tests.support.sweep import CZJ, FGJ, JYJ, OFFICE, assign, county, county_config

SJJ = "县审计局"


def at(month: int, day: int, hour: int = 10, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


def liaison(unit: str) -> Identity:
    return Identity("liaison", "联络员", unit=unit)


def _instruction(svc: Services, code: str, unit: str, answer_by: dt.date) -> Instruction:
    clock = svc.ledger.clock
    issued = Instruction(
        task_code=code,
        unit=unit,
        text=f"请加快推进{code}，按期报告",
        answer_by=answer_by,
        actor="official:王建国",
        at=clock(),
        number=1,
    )
    svc.ledger.save(issued)
    return issued


def _answer(svc: Services, issued: Instruction, unit: str) -> None:
    issued.answer("已按批示要求推进", liaison(unit).actor, svc.ledger.clock())
    svc.ledger.save(issued)


def _measure(svc: Services, code: str, unit: str, kind: str, number: str) -> None:
    measure = AccountabilityMeasure.record(
        code, unit, kind, f"{code}逾期未完成", number, OFFICE.actor, svc.ledger.clock()
    )
    svc.ledger.save(measure)


def _report(svc: Services, code: str, unit: str, percent: int = 50) -> None:
    svc.ledger.report(code, cmd.ReportProgress(text="本月进展", percent=percent), liaison(unit))


def _year(url: str) -> tuple[Services, FakeClock]:
    units = county_config(url)["units"] + [{"name": SJJ, "channel": "office"}]
    clock = FakeClock(at(11, 12))
    svc = county(url, clock, units=units)
    ledger = svc.ledger
    assign(svc, "T1", dt.date(2025, 12, 15), lead=FGJ, co_units=(CZJ, JYJ))
    assign(svc, "T2", dt.date(2025, 12, 20), lead=CZJ, co_units=(FGJ, JYJ))
    assign(svc, "T3", dt.date(2025, 12, 31), lead=JYJ)
    clock.now = at(11, 13)
    for code, unit in (("T1", FGJ), ("T2", CZJ), ("T3", JYJ)):
        ledger.claim(code, liaison(unit))
    clock.now = at(11, 20)
    _report(svc, "T2", FGJ, 0)  # the co-unit FGJ reports on T2: it earns its credit
    clock.now = at(12, 1)
    i1 = _instruction(svc, "T1", FGJ, dt.date(2025, 12, 5))
    i2 = _instruction(svc, "T2", CZJ, dt.date(2025, 12, 10))
    i3 = _instruction(svc, "T3", JYJ, dt.date(2025, 12, 10))
    clock.now = at(12, 3)
    for code, unit in (("T1", FGJ), ("T2", CZJ), ("T3", JYJ)):
        _report(svc, code, unit)
    clock.now = at(12, 9)
    _answer(svc, i2, CZJ)
    clock.now = at(12, 12)
    _answer(svc, i3, JYJ)
    assert not i1.answered
    clock.now = at(12, 17)
    ledger.submit_completion("T2", cmd.SubmitCompletion(summary="已完成"), liaison(CZJ))
    clock.now = at(12, 18)
    ledger.accept_completion("T2", cmd.Decision(reason="同意销号"), OFFICE)
    clock.now = at(12, 22)
    _measure(svc, "T1", FGJ, "criticism", "县改办〔2025〕7号")
    clock.now = at(12, 23)
    _measure(svc, "T1", JYJ, "interview", "县改办〔2025〕8号")
    clock.now = at(12, 31, 18)
    return svc, clock


@pytest.fixture
def year(sqlite_url: str) -> tuple[Services, FakeClock]:
    return _year(sqlite_url)


def _units(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["unit"]: u for u in report["units"]}


def test_the_round_due_dates_are_those_worked_out_by_hand(year: tuple[Services, Any]) -> None:
    svc, _ = year
    assert round_due_date("2025-11", svc.calendar, 5) == dt.date(2025, 11, 10)
    assert round_due_date("2025-12", svc.calendar, 5) == dt.date(2025, 12, 8)


def test_the_year_s_scores_follow_the_new_rules(year: tuple[Services, Any]) -> None:
    svc, _ = year
    report = annual_assessment(report_context(svc), 2025, dt.date(2025, 12, 31))
    units = _units(report)
    # FGJ: lead T1 unfinished past 12-15 −5; co T2 on time, reported 11-20 +1;
    #      批示 on T1 (by 12-05) never answered −1; 通报批评 −3
    assert units[FGJ]["score"] == pytest.approx(100 - 5 + 1 - 1 - 3)  # 92
    # CZJ: co T1 unfinished −2.5; lead T2 completed 12-18, by 12-20 +2
    assert units[CZJ]["score"] == pytest.approx(100 - 2.5 + 2)  # 99.5
    # JYJ: co T1 unfinished −2.5; co T2 on time but never reported on it: 0;
    #      批示 on T3 (by 12-10) answered 12-12 −1; 约谈 −2; T3 due 12-31: not yet overdue
    assert units[JYJ]["score"] == pytest.approx(100 - 2.5 - 1 - 2)  # 94.5
    ranking = [(u["rank"], u["unit"], u["status"]) for u in report["units"]]
    assert ranking == [
        (1, CZJ, "ranked"),
        (2, JYJ, "ranked"),
        (3, FGJ, "ranked"),
        (None, SJJ, "no_tasks"),  # at 100 it would have ranked first
    ]
    assert units[SJJ]["score"] is None
    assert units[SJJ]["points"] == []
    assert units[SJJ]["status_label"] == "无任务"


def test_every_new_point_names_its_rule_and_its_event(year: tuple[Services, Any]) -> None:
    svc, _ = year
    report = annual_assessment(report_context(svc), 2025, dt.date(2025, 12, 31))
    lines = {
        u["unit"]: sorted((p["label"], p["task_code"], p["points"], p["event_label"])
                          for p in u["points"])
        for u in report["units"]
    }  # fmt: skip
    assert lines[FGJ] == [
        ("批示未按期回复", "T1", -1.0, "领导批示"),
        ("牵头任务逾期未完成", "T1", -5.0, "任务交办"),
        ("通报批评", "T1", -3.0, "追责问责登记"),
        ("配合任务按期完成", "T2", 1.0, "销号"),
    ]
    assert lines[JYJ] == [
        ("批示未按期回复", "T3", -1.0, "领导批示"),
        ("约谈", "T1", -2.0, "追责问责登记"),
        ("配合任务逾期未完成", "T1", -2.5, "任务交办"),
    ]
    notes = {(p["kind"], p["note"]) for u in report["units"] for p in u["points"]}
    assert ("instruction_unanswered", "要求2025年12月5日前回复，未回复") in notes
    assert ("instruction_unanswered", "要求2025年12月10日前回复，2025年12月12日才回复") in notes
    assert ("lead_overdue", "完成时限2025年12月15日，截至2025年12月31日未完成") in notes
    assert ("measure_criticism", "T1逾期未完成（县改办〔2025〕7号）") in notes
    recorder = svc.ledger.recorder
    for unit in report["units"]:
        for p in unit["points"]:
            (stored,) = recorder.select_notifications(p["notification_id"], 1)
            assert stored.topic.endswith(p["event_type"]), p


def test_the_new_rules_are_judged_on_the_assessment_date(year: tuple[Services, Any]) -> None:
    svc, _ = year
    ctx = report_context(svc)
    # 12-05: T1's 批示 is due that day (not passed); nothing is past its deadline yet
    early = _units(annual_assessment(ctx, 2025, dt.date(2025, 12, 5)))
    assert early[FGJ]["points"] == []  # the co-unit credit comes with T2's completion
    # 12-11: T1's 批示 (by 12-05) and T3's (by 12-10, answered only 12-12) have passed
    mid = _units(annual_assessment(ctx, 2025, dt.date(2025, 12, 11)))
    assert mid[FGJ]["score"] == pytest.approx(100 - 1)
    assert mid[JYJ]["score"] == pytest.approx(100 - 1)
    # 12-16: T1 is past its deadline of 12-15
    later = _units(annual_assessment(ctx, 2025, dt.date(2025, 12, 16)))
    assert later[FGJ]["score"] == pytest.approx(100 - 1 - 5)
    assert later[CZJ]["score"] == pytest.approx(100 - 2.5)


def test_the_next_year_counts_a_task_still_unfinished_once_more(
    year: tuple[Services, FakeClock],
) -> None:
    svc, clock = year
    clock.now = at(1, 5, year=2026)
    report = annual_assessment(report_context(svc), 2026, dt.date(2026, 1, 5))
    units = _units(report)
    # 2026 as of 01-05 (January's round not due yet): T1 (12-15) and T3 (12-31) unfinished
    assert units[FGJ]["score"] == pytest.approx(100 - 5)  # lead T1, once
    assert units[CZJ]["score"] == pytest.approx(100 - 2.5)  # co T1; T2 closed in 2025
    assert units[JYJ]["score"] == pytest.approx(100 - 2.5 - 5)  # co T1; lead T3
    assert units[SJJ]["status"] == "no_tasks"


def test_changed_points_for_the_new_rules(year: tuple[Services, Any]) -> None:
    svc, _ = year
    ctx = report_context(svc)
    ctx.rules = type(ctx.rules)(
        lead_overdue=-8.0, instruction_unanswered=-0.5, measure_criticism=-4.0, co_on_time=1.5
    )
    units = _units(annual_assessment(ctx, 2025, dt.date(2025, 12, 31)))
    assert units[FGJ]["score"] == pytest.approx(100 - 8 + 1.5 - 0.5 - 4)


def test_the_quarterly_and_annual_reports_list_the_measures(
    year: tuple[Services, Any], tmp_path: Any
) -> None:
    svc, _ = year
    ctx = report_context(svc)
    q4 = quarterly_dispatch(ctx, 2025, 4, dt.date(2025, 12, 31))
    listed = [
        (m["task_code"], m["unit"], m["kind_label"], m["reason"], m["document_no"], m["day"])
        for m in q4["measures"]
    ]
    assert listed == [
        ("T1", FGJ, "通报批评", "T1逾期未完成", "县改办〔2025〕7号", "2025-12-22"),
        ("T1", JYJ, "约谈", "T1逾期未完成", "县改办〔2025〕8号", "2025-12-23"),
    ]
    assert quarterly_dispatch(ctx, 2025, 3, dt.date(2025, 12, 31))["measures"] == []
    annual = annual_assessment(ctx, 2025, dt.date(2025, 12, 31))
    assert annual["measures"] == q4["measures"]
    text = render_markdown(annual)
    assert "- 无任务 县审计局" in text  # a list: WeCom and DingTalk render no table
    assert "T1 县发展和改革局 通报批评：T1逾期未完成（县改办〔2025〕7号）" in text
    assert "约谈" in render_markdown(q4)
    page = render_html(annual)
    assert "<h3>无任务：县审计局</h3>" in page
    assert "<td>县改办〔2025〕8号</td>" in page
    assert "要求2025年12月5日前回复，未回复" in page
    assert "<td>T1逾期未完成</td>" in render_html(q4)
    path = tmp_path / "a.xlsx"
    write_xlsx(annual, path)
    book = load_workbook(path)
    ranked = list(book["排名"].iter_rows(min_row=4, values_only=True))
    assert ranked[-1] == ("无任务", SJJ, None, None, None)
    details = list(book["得分明细"].iter_rows(min_row=4, values_only=True))
    assert not any(str(cell).startswith(("ReformTask.", "Instruction.")) for r in details
                   for cell in r)  # fmt: skip
    measures = list(book["追责问责"].iter_rows(min_row=4, values_only=True))
    assert measures[0] == (
        "2025年12月22日",
        "T1",
        FGJ,
        "通报批评",
        "T1逾期未完成",
        "县改办〔2025〕7号",
    )


def test_the_command_line_shows_the_same_assessment(
    year: tuple[Services, Any], sqlite_url: str, tmp_path: Any
) -> None:
    channels = ("office", "leaders", "fgj", "czj", "jyj", "wang")
    units = ((FGJ, "fgj"), (CZJ, "czj"), (JYJ, "jyj"), (SJJ, "office"))
    config = tmp_path / "duban.toml"
    config.write_text(
        f'store = "{sqlite_url}"\n'
        + "".join(f'[[channels]]\nname = "{c}"\nplatform = "console"\n' for c in channels)
        + "".join(f'[[units]]\nname = "{u}"\nchannel = "{c}"\n' for u, c in units),
        encoding="utf-8",
    )
    args = ["report", "assessment", "2025", "--as-of", "2025-12-31", "--format", "json"]
    done = run_cli(["--config", str(config), *args])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(u["rank"], u["unit"], u["score"]) for u in report["units"]] == [
        (1, CZJ, 99.5),
        (2, JYJ, 94.5),
        (3, FGJ, 92.0),
        (None, SJJ, None),
    ]


def test_an_older_view_is_rebuilt_and_new_events_fold_in(year: tuple[Services, FakeClock]) -> None:
    svc, clock = year
    view = report_context(svc).store.projection.view
    # as if an earlier version of the reports' view (without the new facts) had written it
    view.write([("UPDATE {p}report_meta SET value = '2' WHERE name = 'schema'", [()])], None)
    ctx = report_context(svc)  # dropped, made anew and caught up from the events
    rebuilt = _units(annual_assessment(ctx, 2025, dt.date(2025, 12, 31)))
    assert [rebuilt[u]["score"] for u in (FGJ, CZJ, JYJ)] == [92.0, 99.5, 94.5]
    clock.now = at(12, 30)
    _measure(svc, "T2", CZJ, "accountability", "县改办〔2025〕9号")
    report = annual_assessment(report_context(svc), 2025, dt.date(2025, 12, 31))
    # CZJ: 99.5 − 5 (问责) = 94.5, tied with JYJ: both first (in the config's order), FGJ third
    assert [(u["rank"], u["unit"], u["score"]) for u in report["units"]][:3] == [
        (1, CZJ, 94.5),
        (1, JYJ, 94.5),
        (3, FGJ, 92.0),
    ]
