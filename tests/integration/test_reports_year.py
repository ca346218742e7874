"""A scripted year of the sample list: 月分析、季调度、年督考 against figures worked out by hand.

The story (examples/tasks-2024.csv, 35 tasks, imported 2024-03-01; every open task reports
on its round's due date each month, except where told):

* March: 2024-05 (县国资办) reports late on 03-15; 2024-19 (县财政局) and 2024-33 (县纪委监委)
  do not report. April: 2024-33 again does not report.
* 2024-05 (县国资办; co 县财政局、县人力资源和社会保障局) completes on time in June; of its
  co-units only 县财政局's liaison reports on it (05-20), so only 县财政局 earns the co-unit credit.
* 2024-15 (县行政审批服务局; co 县市场监督管理局、县自然资源局、县住房和城乡建设局) gets an
  extension to 09-30 in June and completes on 09-25: on time.
* 2024-29 (县人力资源和社会保障局; co 县财政局、县医疗保障局、县民政局), due 06-30, is urged
  07-01, supervised 07-05, named in a bulletin 07-12 and completes late on 07-22.
* 2024-06 (县工业和信息化局), due 06-30, is supervised 07-05 and stays open.
* Recognitions: 2024-26 (县卫生健康局) provincial exemplar 08-15, 2024-10 (县农业农村局)
  national pilot 09-10, 2024-21 (县委政法委) county exemplar 09-12.

At 12-31 the tasks still open with a deadline before it (each −5 to its lead, −2.5 to each
co-unit): 2024-03 (09-30), 2024-06 (06-30), 2024-08 (10-31), 2024-14 (11-20), 2024-16 (09-30),
2024-17 (09-30), 2024-19 (06-30), 2024-23 (09-30), 2024-25 (08-31), 2024-27 (09-30),
2024-28 (10-31), 2024-30 (11-30), 2024-32 (06-30). Deadlines of 12-31 have not passed then.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.calendar import WorkingCalendar
from domain.report_round import round_due_date
from domain.roles import Identity
from domain.scoring import ScoringRules
from domain.task import ReformTask, task_id
from duban.app import commands as cmd
from duban.app.importer import read_task_list
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from projections.assessment import open_reports
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from projections.report_quarterly import quarterly_dispatch
from projections.reports import ReportContext
from projections.runner import catch_up
from tests.conftest import TZ, FakeClock

OFFICE = Identity("office", "改革办")
FINANCE = Identity("liaison", "钱会计", "县财政局")
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tasks-2024.csv"
CAL = WorkingCalendar()


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, tzinfo=TZ)


@dataclass
class Year:
    ledger: Ledger
    clock: FakeClock
    closed: set[str]
    mid_year: dict[str, Any] | None = None  # assessment as of 06-30, computed on 07-01
    events_mid_year: int = 0

    def escalate(self, code: str, rung: str, due: dt.date) -> None:
        task: ReformTask = self.ledger.repository.get(task_id(code))
        key = f"{code}/{due}/{rung}"
        task.record_escalation(rung, "lead_unit", due, key, "system:duban", self.clock())
        self.ledger.save(task)

    def complete(self, code: str) -> None:
        self.ledger.submit_completion(code, cmd.SubmitCompletion(summary="已完成"), OFFICE)

    def accept(self, code: str) -> None:
        self.ledger.accept_completion(code, cmd.Decision(reason="同意销号"), OFFICE)
        self.closed.add(code)

    def report(self, code: str, percent: int) -> None:
        self.ledger.report(code, cmd.ReportProgress(text="按计划推进", percent=percent), OFFICE)

    def recognise(self, code: str, kind: str, level: str) -> None:
        rec = cmd.Recognise.model_validate(
            {"kind": kind, "level": level, "title": f"{code}经验做法"}
        )
        self.ledger.recognise(code, rec, OFFICE)


CODES = [f"2024-{n:02d}" for n in range(1, 36)]
SKIP = {3: {"2024-05", "2024-19", "2024-33"}, 4: {"2024-33"}}


def _round(year: Year, month: int) -> None:
    """Every open task reports on the round's due date (percent 5 per month since March;
    2024-01 is ahead of schedule with 80% from September)."""
    for code in CODES:
        if code in year.closed or code in SKIP.get(month, set()):
            continue
        percent = 80 if code == "2024-01" and month >= 9 else 5 * (month - 2)
        year.report(code, percent)


def _timeline(year: Year) -> list[tuple[dt.datetime, Callable[[], None]]]:
    steps: list[tuple[dt.datetime, Callable[[], None]]] = []
    for month in range(3, 13):
        due = round_due_date(f"2024-{month:02d}", CAL, 5)
        steps.append(
            (dt.datetime.combine(due, dt.time(11), TZ), functools.partial(_round, year, month))
        )
    steps += [
        (at(3, 15), lambda: year.report("2024-05", 10)),
        (at(5, 20), lambda: _co_report(year, "2024-05", FINANCE)),
        (at(6, 20), lambda: year.complete("2024-05")),
        (at(6, 21), lambda: year.accept("2024-05")),
        (at(6, 20, 11), lambda: _extend(year, "2024-15", dt.date(2024, 9, 30))),
        (at(7, 1, 9), lambda: _mid_year(year)),
        (at(7, 1), lambda: year.escalate("2024-29", "urge", dt.date(2024, 6, 30))),
        (at(7, 5, 9), lambda: year.escalate("2024-29", "supervise", dt.date(2024, 6, 30))),
        (
            at(
                7,
                5,
                9,
            ),
            lambda: year.escalate("2024-06", "supervise", dt.date(2024, 6, 30)),
        ),
        (at(7, 12), lambda: year.escalate("2024-29", "bulletin", dt.date(2024, 6, 30))),
        (at(7, 20), lambda: year.complete("2024-29")),
        (at(7, 22), lambda: year.accept("2024-29")),
        (at(8, 15), lambda: year.recognise("2024-26", "exemplar", "provincial")),
        (at(9, 10), lambda: year.recognise("2024-10", "pilot", "national")),
        (at(9, 12), lambda: year.recognise("2024-21", "exemplar", "county")),
        (at(9, 25), lambda: year.complete("2024-15")),
        (at(9, 26), lambda: year.accept("2024-15")),
    ]
    return sorted(steps, key=lambda s: s[0])


def _co_report(year: Year, code: str, who: Identity) -> None:
    year.ledger.report(code, cmd.ReportProgress(text="配合完成资金测算", percent=0), who)


def _extend(year: Year, code: str, to: dt.date) -> None:
    year.ledger.request_extension(
        code, cmd.RequestExtension(new_deadline=to, reason="审批"), OFFICE
    )
    year.clock.advance(hours=1)
    year.ledger.grant_extension(code, cmd.DecideExtension(reason="同意"), OFFICE)


def _mid_year(year: Year) -> None:
    year.mid_year = annual_assessment(context(year.ledger), 2024, dt.date(2024, 6, 30))
    year.events_mid_year = year.ledger.recorder.max_notification_id() or 0


def context(ledger: Ledger, rules: ScoringRules | None = None) -> ReportContext:
    store = open_reports(ledger.recorder.datastore)  # type: ignore[attr-defined]
    catch_up(ledger, store.projection)
    return ReportContext(store, CAL, 5, rules or ScoringRules())


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Year:
    clock = FakeClock(at(3, 1))
    ledger = open_ledger(f"sqlite:///{tmp_path_factory.mktemp('year') / 'duban.db'}", clock)
    result = read_task_list(SAMPLE)
    assert not result.errors
    ledger.import_tasks(result.rows, OFFICE)
    clock.now = at(3, 4)
    for code in CODES:
        ledger.claim(code, OFFICE)
    y = Year(ledger, clock, set())
    for moment, step in _timeline(y):
        clock.now = moment
        step()
    clock.now = at(12, 31, 18)
    return y


def scores(report: dict[str, Any]) -> dict[str, float]:
    return {u["unit"]: u["score"] for u in report["units"]}


# ---- 年督考 ----------------------------------------------------------------------------------


def test_round_due_dates_follow_the_working_day_calendar() -> None:
    # 5 working days after the first working day: March (Fri 1) 4, 5, 6, 7, 8;
    # April (Mon 1) 2, 3, (4-6 清明), 7 (调休), 8, 9.
    assert round_due_date("2024-03", CAL, 5) == dt.date(2024, 3, 8)
    assert round_due_date("2024-04", CAL, 5) == dt.date(2024, 4, 9)


def test_the_annual_scores_are_those_worked_out_by_hand(year: Year) -> None:
    report = annual_assessment(context(year.ledger), 2024, dt.date(2024, 12, 31))
    got = scores(report)
    # Overdue unfinished at 12-31 (see the module docstring): lead −5, each co-unit −2.5.
    expected = {
        # lead 2024-05 on time; 2024-05 late in March; co 2024-08 overdue
        "县国资办": 100 + 2 - 0.1 - 2.5,
        # co 2024-05 on time (reported 05-20); co 2024-29 late; 2024-19 missing March;
        # lead 2024-19 overdue; co 2024-08, 2024-25, 2024-28, 2024-32 overdue
        "县财政局": 100 + 1 - 2.5 - 0.5 - 5 - 2.5 * 4,
        # co 2024-05 but never reported on it: no credit; lead 2024-29 late; 督办; 通报;
        # co 2024-25 overdue
        "县人力资源和社会保障局": 100 - 5 - 1 - 2 - 2.5,
        "县医疗保障局": 100 - 2.5 - 5,  # co 2024-29 late; lead 2024-27 overdue
        "县民政局": 100 - 2.5 - 2.5,  # co 2024-29 late; co 2024-30 overdue
        # lead 2024-15 on time (after the extension); co 2024-16 overdue
        "县行政审批服务局": 100 + 2 - 2.5,
        "县市场监督管理局": 100 - 2.5,  # co 2024-15 without a report: 0; co 2024-17 overdue
        # co 2024-15: 0; lead 2024-03, 2024-16 overdue; co 2024-19, 2024-23, 2024-28 overdue
        "县自然资源局": 100 - 5 - 5 - 2.5 * 3,
        "县住房和城乡建设局": 100 - 5 - 2.5,  # co 2024-15: 0; lead 2024-28; co 2024-16
        "县卫生健康局": 100 + 2 - 2.5 - 2.5,  # provincial exemplar; co 2024-23, 2024-27
        "县农业农村局": 100 + 3,  # national pilot (its tasks are due 12-31 or undated)
        "县纪委监委": 100 - 0.5 - 0.5,  # 2024-33 missing in March and April
        # 2024-06 督办; lead 2024-06 overdue; co 2024-03, 2024-14 overdue
        "县工业和信息化局": 100 - 1 - 5 - 2.5 - 2.5,
        # county-level recognition scores nothing by default; lead 2024-30 overdue
        "县委政法委": 100 + 0 - 5,
        "县发展和改革局": 100 - 5 - 2.5 * 3,  # lead 2024-17; co 2024-03, 2024-14, 2024-19
        "工业园区管委会": 100 - 5 - 2.5 - 2.5,  # lead 2024-08; co 2024-03, 2024-25
        "县统计局": 100 - 2.5,  # co 2024-06
        "县税务局": 100 - 2.5 - 2.5,  # co 2024-06, 2024-19
        "县委编办": 100 - 5 - 2.5,  # lead 2024-32; co 2024-08
        "县生态环境分局": 100 - 5,  # lead 2024-14
        "县司法局": 100 - 2.5 * 3,  # co 2024-17, 2024-30, 2024-32
        "县应急管理局": 100 - 5,  # lead 2024-23
        "县水利局": 100 - 2.5,  # co 2024-23
        "县教育局": 100 - 5,  # lead 2024-25
        "县公安局": 100 - 2.5,  # co 2024-30
        "县委组织部": 100 - 2.5 - 2.5,  # co 2024-30, 2024-32
    }
    for unit, score in expected.items():
        assert got[unit] == pytest.approx(score), unit
    others = set(got) - set(expected)
    # every task of these is due 12-31, undated, or theirs only as co-units of such tasks
    assert others == {
        "县商务局(招商服务中心)", "县人民法院", "县城市管理局", "县委宣传部", "县林业局",
        "县信访局", "县人民检察院", "县人大常委会办公室", "县政协办公室",
    }  # fmt: skip
    assert all(got[u] == 100 for u in others)
    ranking = [(u["rank"], u["unit"]) for u in report["units"]]
    assert ranking[0] == (1, "县农业农村局")  # 103
    assert {r for r, u in ranking[1:10]} == {2}  # the nine units at 100 share rank 2
    assert ranking[10:13] == [(11, "县行政审批服务局"), (12, "县国资办"), (13, "县纪委监委")]
    assert all(u["status"] == "ranked" for u in report["units"])  # every unit had a task


def test_every_point_links_to_its_event_and_the_points_add_up_to_the_score(year: Year) -> None:
    report = annual_assessment(context(year.ledger), 2024, dt.date(2024, 12, 31))
    recorder = year.ledger.recorder
    for unit in report["units"]:
        points = [p["points"] for p in unit["points"]]
        assert unit["score"] == pytest.approx(unit["base"] + math.fsum(points))
        for p in unit["points"]:
            (stored,) = recorder.select_notifications(p["notification_id"], 1)
            assert stored.id == p["notification_id"]
            assert stored.topic.endswith(p["event_type"]), p
            event = year.ledger.mapper.to_domain_event(stored)
            assert year.ledger.repository.get(event.originator_id).code == p["task_code"]
    hr = next(u for u in report["units"] if u["unit"] == "县人力资源和社会保障局")
    assert sorted((p["label"], p["task_code"], p["points"]) for p in hr["points"]) == [
        ("牵头任务逾期完成", "2024-29", -5.0),
        ("督办", "2024-29", -1.0),
        ("通报", "2024-29", -2.0),
        ("配合任务逾期未完成", "2024-25", -2.5),
    ]
    (overdue,) = [p for p in hr["points"] if p["kind"] == "co_overdue"]
    assert overdue["event_label"] == "任务交办"  # the obligation behind it
    assert overdue["note"] == "完成时限2024年8月31日，截至2024年12月31日未完成"


def test_a_changed_rule_changes_the_scores_without_touching_the_events(year: Year) -> None:
    before = year.ledger.recorder.max_notification_id()
    rules = ScoringRules(lead_on_time=3.0, report_missing=-1.0)
    got = scores(annual_assessment(context(year.ledger, rules), 2024, dt.date(2024, 12, 31)))
    assert got["县国资办"] == pytest.approx(100 + 3 - 0.1 - 2.5)
    assert got["县纪委监委"] == pytest.approx(100 - 1 - 1)
    assert got["县财政局"] == pytest.approx(100 + 1 - 2.5 - 1 - 5 - 2.5 * 4)
    overdue = ScoringRules(lead_overdue=-10.0, co_overdue=0.0)
    got = scores(annual_assessment(context(year.ledger, overdue), 2024, dt.date(2024, 12, 31)))
    assert got["县自然资源局"] == pytest.approx(100 - 10 - 10)  # lead 2024-03, 2024-16
    assert year.ledger.recorder.max_notification_id() == before


def test_scores_as_of_a_past_date_are_reproducible(year: Year) -> None:
    assert year.mid_year is not None
    later = annual_assessment(context(year.ledger), 2024, dt.date(2024, 6, 30))
    assert later == year.mid_year
    got = scores(later)
    assert got["县国资办"] == pytest.approx(100 + 2 - 0.1)
    # nothing is overdue on 06-30 yet: the June deadlines pass only after that day
    assert got["县财政局"] == pytest.approx(100 + 1 - 0.5)
    assert got["县人力资源和社会保障局"] == 100  # co 2024-05 without a report: no credit
    assert got["县行政审批服务局"] == 100  # completes only in September
    assert (year.ledger.recorder.max_notification_id() or 0) > year.events_mid_year


# ---- 月分析 ----------------------------------------------------------------------------------


def test_the_march_analysis(year: Year) -> None:
    report = monthly_analysis(context(year.ledger), "2024-03")
    assert report["round_due"] == "2024-03-08"
    totals = report["totals"]
    assert totals["tasks"] == 35
    assert totals["by_status"]["claimed"] == 35
    assert totals["by_light"] == {"red": 0, "yellow": 0, "green": 35, "closed": 0}
    # 35 tasks owe a report: 35 - 1 late (2024-05) - 2 missing (2024-19, 2024-33) = 32 on time
    assert totals["reports"] == {"on_time": 32, "report_late": 1, "report_missing": 2, "pending": 0}
    late = {(r["task_code"], r["outcome"]) for r in report["reports"] if r["outcome"] != "on_time"}
    assert late == {("2024-05", "report_late"), ("2024-19", "report_missing"),
                    ("2024-33", "report_missing")}  # fmt: skip
    assert report["changes"]["new_tasks"] == CODES
    assert report["escalations"] == []
    assert report["closed"] == []
    assert report["overdue"] == []
    finance = next(u for u in report["units"] if u["unit"] == "县财政局")
    assert finance["tasks"] == 1
    assert finance["reports"]["report_missing"] == 1


def test_the_july_analysis(year: Year) -> None:
    report = monthly_analysis(context(year.ledger), "2024-07")
    # open at 07-31 with a deadline before it: 2024-06, 2024-19, 2024-32, all due 06-30:
    # 23 working days overdue (July 2024's working days, as the board counts)
    overdue = {(o["code"], o["days_overdue"]) for o in report["overdue"]}
    assert overdue == {("2024-06", 23), ("2024-19", 23), ("2024-32", 23)}
    assert [(e["task_code"], e["rung"]) for e in report["escalations"]] == [
        ("2024-29", "urge"),
        ("2024-29", "supervise"),
        ("2024-06", "supervise"),
        ("2024-29", "bulletin"),
    ]
    assert [(c["task_code"], c["how"]) for c in report["closed"]] == [("2024-29", "lead_late")]
    # 35 tasks less 2024-05 (closed in June) owe July's report; all reported on time
    assert report["totals"]["reports"]["on_time"] == 34
    assert report["totals"]["by_status"]["completed"] == 2  # 2024-05 and 2024-29
    # red: the three overdue tasks (2024-06 also supervised); closed: 2024-05, 2024-29
    assert report["totals"]["by_light"]["red"] == 3
    assert report["totals"]["by_light"]["closed"] == 2
    assert report["changes"]["by_light_delta"]["closed"] == 1  # 2024-29 closed in July
    changed = {c["code"] for c in report["changes"]["tasks"]}
    assert {"2024-29", "2024-06", "2024-19", "2024-32"} <= changed


# ---- 季调度 ----------------------------------------------------------------------------------


def test_the_third_quarter_dispatch(year: Year) -> None:
    report = quarterly_dispatch(context(year.ledger), 2024, 3)
    assert report["next_quarter"] == {"start": "2024-10-01", "end": "2024-12-31"}
    # Deadlines in Q4 per the sample list, open, behind schedule at 09-30 (35% reported,
    # about 70% of the time elapsed); 2024-01 reported 80% and is ahead.
    assert sorted(t["code"] for t in report["at_risk"]) == [
        "2024-04", "2024-08", "2024-09", "2024-10", "2024-11", "2024-14", "2024-18",
        "2024-20", "2024-22", "2024-24", "2024-26", "2024-28", "2024-30", "2024-31", "2024-33",
    ]  # fmt: skip
    repeated = report["repeated_escalations"]
    assert [(u["unit"], u["count"]) for u in repeated] == [("县人力资源和社会保障局", 3)]
    recognised = [(r["task_code"], r["kind"], r["level"]) for r in report["recognitions"]]
    assert recognised == [
        ("2024-26", "exemplar", "provincial"),
        ("2024-10", "pilot", "national"),
        ("2024-21", "exemplar", "county"),
    ]
    wu = next(o for o in report["officials"] if o["official"] == "吴晓燕")
    assert (wu["tasks"], wu["completed"]) == (4, 1)  # 2024-25/26/27/29; 2024-29 completed
