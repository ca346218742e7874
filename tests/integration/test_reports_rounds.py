"""A month with a recorded ReportRound (opened and closed by `duban.app.monthly_rounds`): the
analysis and the assessment take the round's outcome as it stands, worked out by hand.

March 2024, round dated Fri 03-01, due Fri 03-08 (5 working days), closed 04-01:

| task | lead | what happens                                 | round says  |
|------|------|----------------------------------------------|-------------|
| A    | 发改 | reports 03-05                                 | on time     |
| B    | 财政 | reports 03-12                                 | ReportLate  |
| C    | 教育 | never reports                                 | ReportMissing |
| D    | 教育 | cancelled 03-07, never reported               | owes nothing |
| E    | 教育 | reports 03-04                                 | on time     |
| G    | 发改 | assigned 03-05, after the round opened; never | not expected |

Derived from the reports alone, G would be missing too (assigned before the due date): the
round, which did not ask for it, decides. Scores: 发改 100, 财政 100 − 0.1, 教育 100 − 0.5.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from duban.app import commands as cmd
from duban.app.monthly_rounds import close_due_rounds, open_round
from duban.app.report_kinds import report_context
from duban.app.services import Services
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from tests.conftest import FakeClock
from tests.integration.test_rounds_month import _at, _county, _liaison, _report
from tests.support.sweep import CZJ, FGJ, JYJ, OFFICE, assign, county, stored


def _march(store_url: str) -> tuple[Services, FakeClock]:
    clock = FakeClock(_at(2, 20))
    svc = county(store_url, clock)
    for code, unit in (("A", FGJ), ("B", CZJ), ("C", JYJ), ("D", JYJ), ("E", JYJ)):
        assign(svc, code, dt.date(2024, 12, 31), lead=unit)
        svc.ledger.claim(code, _liaison(unit))
    assert open_round(svc, None, _at(3, 1, 9)) is not None
    _report(svc, clock, "E", JYJ, _at(3, 4))
    _report(svc, clock, "A", FGJ, _at(3, 5))
    clock.now = _at(3, 5, 11)
    assign(svc, "G", dt.date(2024, 12, 31), lead=FGJ)
    clock.now = _at(3, 7, 12)
    svc.ledger.cancel("D", cmd.Decision(reason="撤销"), OFFICE)
    _report(svc, clock, "B", CZJ, _at(3, 12))
    return svc, clock


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {r["task_code"]: r["outcome"] for r in report["reports"]}


def _units(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {u["unit"]: u["reports"] for u in report["units"]}


def test_the_monthly_analysis_follows_the_round_while_open_and_once_closed(
    store_url: str,
) -> None:
    svc, clock = _march(store_url)
    clock.now = _at(3, 31, 18)

    early = monthly_analysis(report_context(svc), "2024-03", dt.date(2024, 3, 6))
    assert _outcomes(early) == {"A": "on_time", "B": "pending", "C": "pending",
                                "D": "pending", "E": "on_time"}  # fmt: skip
    assert early["round"] == {
        "opened_on": "2024-03-01",
        "due": "2024-03-08",
        "closed": False,
        "notification_id": early["round"]["notification_id"],
    }

    # 03-31, still open: B's late report is the round's to judge; D was cancelled (owes nothing)
    before_close = monthly_analysis(report_context(svc), "2024-03", dt.date(2024, 3, 31))
    assert _outcomes(before_close) == {"A": "on_time", "B": "pending", "C": "pending",
                                       "E": "on_time"}  # fmt: skip
    assert before_close["totals"]["reports"] == {
        "on_time": 2, "report_late": 0, "report_missing": 0, "pending": 2,
    }  # fmt: skip

    closed = close_due_rounds(svc, _at(4, 1, 9))
    assert [(r.late, r.missing) for r in closed] == [([(CZJ, "B")], [(JYJ, "C")])]
    clock.now = _at(4, 1, 10)

    # as of 03-31 the round had not closed yet: the same answer as before it did
    again = monthly_analysis(report_context(svc), "2024-03", dt.date(2024, 3, 31))
    assert again == before_close

    for report in (
        monthly_analysis(report_context(svc), "2024-03", dt.date(2024, 4, 1)),
        monthly_analysis(report_context(svc), "2024-03"),  # every fact stored
    ):
        assert report["day"] == "2024-03-31"  # the month as it stood at its end
        assert report["round_due"] == "2024-03-08"
        assert report["round"]["closed"] is True
        # 5 expected (A-E) - D (cancelled, owed nothing) = 4: 2 on time, 1 late, 1 missing;
        # G was not asked for (derived from the reports alone it would be missing)
        assert _outcomes(report) == {"A": "on_time", "B": "report_late", "C": "report_missing",
                                     "E": "on_time"}  # fmt: skip
        assert report["totals"]["reports"] == {
            "on_time": 2, "report_late": 1, "report_missing": 1, "pending": 0,
        }  # fmt: skip
        units = _units(report)
        assert units[FGJ] == {"on_time": 1, "report_late": 0, "report_missing": 0, "pending": 0}
        assert units[CZJ] == {"on_time": 0, "report_late": 1, "report_missing": 0, "pending": 0}
        assert units[JYJ] == {"on_time": 1, "report_late": 0, "report_missing": 1, "pending": 0}
        _links_to_the_round(svc, report)
    svc.ledger.close()


def _links_to_the_round(svc: Services, report: dict[str, Any]) -> None:
    late = stored(svc, "ReportRound.ReportLate")
    missing = stored(svc, "ReportRound.ReportMissing")
    progress = stored(svc, "ReformTask.ProgressReported")
    rows = {r["task_code"]: r for r in report["reports"]}
    assert len(late) == len(missing) == 1
    assert rows["B"]["notification_id"] == _position(svc, late[0])
    assert rows["C"]["notification_id"] == _position(svc, missing[0])
    a_report = next(e for e in progress if e.at == _at(3, 5))
    assert rows["A"]["notification_id"] == _position(svc, a_report)


def _position(svc: Services, event: Any) -> int:
    """The notification id of a stored domain event."""
    recorder = svc.ledger.recorder
    start = 0
    while batch := recorder.select_notifications(start, 1000, inclusive_of_start=False):
        for n in batch:
            if n.originator_id == event.originator_id and n.originator_version == (
                event.originator_version
            ):
                return int(n.id)
        start = batch[-1].id
    raise AssertionError(f"not stored: {event!r}")


def test_the_assessment_scores_the_round_s_late_and_missing_reports(store_url: str) -> None:
    svc, clock = _march(store_url)
    close_due_rounds(svc, _at(4, 1, 9))
    clock.now = _at(4, 2, 10)

    before = annual_assessment(report_context(svc), 2024, dt.date(2024, 3, 31))
    assert {u["unit"]: u["score"] for u in before["units"]} == {FGJ: 100, CZJ: 100, JYJ: 100}

    report = annual_assessment(report_context(svc), 2024, dt.date(2024, 4, 2))
    scores = {u["unit"]: u["score"] for u in report["units"]}
    assert scores == {FGJ: 100, CZJ: 99.9, JYJ: 99.5}
    points = {u["unit"]: u["points"] for u in report["units"]}
    assert points[FGJ] == []  # G: not asked for by the round, so not missing
    ((late,),) = [points[CZJ]]
    ((missing,),) = [points[JYJ]]
    assert (late["kind"], late["task_code"], late["points"]) == ("report_late", "B", -0.1)
    assert (missing["kind"], missing["task_code"], missing["points"]) == (
        "report_missing", "C", -0.5,
    )  # fmt: skip
    for point, event_type in ((late, "ReportRound.ReportLate"),
                              (missing, "ReportRound.ReportMissing")):  # fmt: skip
        assert point["event_type"] == event_type
        (n,) = svc.ledger.recorder.select_notifications(point["notification_id"], 1)
        assert n.topic.endswith(event_type)
        event: Any = svc.ledger.mapper.to_domain_event(n)
        assert event.task_code == point["task_code"]
    # scores as of a past day stay what they were
    assert annual_assessment(report_context(svc), 2024, dt.date(2024, 3, 31)) == before
    svc.ledger.close()


def test_december_s_round_closed_in_january_counts_for_the_year(store_url: str) -> None:
    svc, clock = _county(store_url)  # A 发改, B 财政, C and D 教育
    assert open_round(svc, None, _at(12, 2, 9)) is not None
    _report(svc, clock, "A", FGJ, _at(12, 3))
    closed = close_due_rounds(svc, dt.datetime(2025, 1, 2, 9, tzinfo=_at(1, 1).tzinfo))
    assert [set(r.missing) for r in closed] == [{(CZJ, "B"), (JYJ, "C"), (JYJ, "D")}]
    clock.now = dt.datetime(2025, 1, 10, 10, tzinfo=_at(1, 1).tzinfo)

    def scores(as_of: dt.date | None) -> dict[str, float]:
        report = annual_assessment(report_context(svc), 2024, as_of)
        return {u["unit"]: u["score"] for u in report["units"]}

    # March to November had no round: derived from the reports, every task (assigned 02-20,
    # after February's due date) is missing 9 times, -0.5 each: 发改 A, 财政 B, 教育 C and D.
    # December's round, still open on 12-31, scores nothing as of that day ...
    assert scores(dt.date(2024, 12, 31)) == {FGJ: 95.5, CZJ: 95.5, JYJ: 91.0}
    # ... and its ReportMissing of 01-02 count for 2024 once known: B, C, D -0.5 each.
    assert scores(None) == scores(dt.date(2025, 1, 2)) == {FGJ: 95.5, CZJ: 95.0, JYJ: 90.0}
    svc.ledger.close()
