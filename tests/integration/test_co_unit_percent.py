"""A co-unit's report keeps the percent it gave for its own part (issue 12): the board stores
it with the report, the task page and `duban task show` print it, and a board view written
before it kept one is dropped and rebuilt from the events when opened."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.services import Services
from duban.cli.plans import task_parts_lines
from projections.board import FACTS_FORMAT
from projections.views import open_views
from tests.conftest import TZ, FakeClock
from tests.support.sweep import CZJ, FGJ, assign, county

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
CO = Identity("liaison", "李娜", unit=CZJ)


@pytest.fixture
def services(tmp_path: object) -> Services:
    county_services = county(f"sqlite:///{tmp_path}/duban.db", FakeClock(NOW))
    assign(county_services, "2026-01", dt.date(2026, 12, 31), lead=FGJ, co_units=(CZJ,))
    county_services.ledger.report("2026-01", cmd.ReportProgress(text="已测算资金", percent=40), CO)
    return county_services


def _reports(services: Services) -> list[dict[str, object]]:
    views = services.views()
    views.catch_up(services.ledger, ["board"])
    (row,) = views.board.rows(NOW.date())
    return list(row["co_unit_reports"])


def test_the_board_keeps_the_co_units_own_percent_with_its_report(services: Services) -> None:
    (report,) = _reports(services)
    assert (report["unit"], report["text"], report["percent"]) == (CZJ, "已测算资金", 40)
    (row,) = services.views().board.rows(NOW.date())
    assert row["percent"] == 0  # the task's own progress is the lead unit's


def test_a_board_written_in_the_old_format_is_rebuilt_when_opened(services: Services) -> None:
    views = services.views()
    views.catch_up(services.ledger, ["board"])
    view = views.board.projection.view
    old = '[{"unit": "县财政局", "by": "liaison:县财政局/李娜", "at": "x", "text": "旧"}]'
    view.write(
        [
            ("UPDATE {p}board_meta SET value = '1' WHERE name = 'facts'", [()]),
            (
                "UPDATE {p}board_tasks SET facts = json_set(facts, '$.co_unit_reports', json(?))",
                [(old,)],
            ),
        ],
        None,
    )
    assert [r.get("percent") for r in views.board.rows(NOW.date())[0]["co_unit_reports"]] == [
        None
    ]  # what an older version stored

    reopened = open_views(services.ledger, services.calendar)
    assert reopened.board.rows(NOW.date()) == []  # dropped: the next catch-up rebuilds it
    reopened.catch_up(services.ledger, ["board"])
    (report,) = reopened.board.rows(NOW.date())[0]["co_unit_reports"]
    assert (report["text"], report["percent"]) == ("已测算资金", 40)
    meta = view.select("SELECT value FROM {p}board_meta WHERE name = 'facts'")
    assert meta[0]["value"] == FACTS_FORMAT


def test_task_show_prints_the_co_units_own_percent() -> None:
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
    state = {
        "co_unit_reports": [
            {"unit": CZJ, "by": CO.actor, "at": at, "text": "已测算资金", "percent": 40},
            {"unit": "县教育局", "by": "liaison:县教育局/赵磊", "at": at, "text": "旧记录"},
        ]
    }
    assert task_parts_lines(state) == [
        "配合单位报送：县财政局 李娜（2026-03-02 10:00）：已测算资金（本单位进度40%）",
        "配合单位报送：县教育局 赵磊（2026-03-02 10:00）：旧记录",  # stored before: no percent
    ]
