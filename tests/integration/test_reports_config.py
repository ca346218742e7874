"""The reports read the config: its scoring rules and its light thresholds reach every report,
each report kind is described once (period, parsing, the period a job posts), and the CLI's
commands are made from those descriptions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest

from domain.scoring import ScoringRules
from duban.app.report_kinds import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    REPORT_KINDS,
    ReportKind,
    report_context,
    scoring_rules,
)
from duban.settings.config import Assessment
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from tests.conftest import FakeClock
from tests.support.cli_zygote import run_cli
from tests.support.sweep import CZJ, assign, county


def test_the_scoring_rules_carry_every_field_of_the_config() -> None:
    names = [f.name for f in dataclasses.fields(ScoringRules)]
    assert names == list(Assessment.model_fields)
    assert scoring_rules(Assessment()) == ScoringRules()  # the same defaults
    changed = Assessment.model_validate({name: i + 0.5 for i, name in enumerate(names)})
    assert scoring_rules(changed).as_dict() == changed.model_dump()
    assert ScoringRules(lead_on_time=3).as_dict()["lead_on_time"] == 3.0  # points are floats


def test_the_reports_use_the_config_s_lights_and_scoring_rules(
    sqlite_url: str, clock: FakeClock
) -> None:
    # 2024-03-01 to the 2024-03-29 deadline is 20 working days: green with the default 5
    # days' warning, yellow with 25 (as on the board, `test_lights_config`).
    lights = {"due_within_working_days": 25}
    svc = county(sqlite_url, clock, lights=lights, assessment={"lead_on_time": 3})
    try:
        assign(svc, "A", dt.date(2024, 3, 29), lead=CZJ)
        report = monthly_analysis(report_context(svc), "2024-03", dt.date(2024, 3, 1))
        assert [t["light"] for t in report["tasks"]] == ["yellow"]
        views = svc.views()
        views.catch_up(svc.ledger, ["board"])
        assert [r["light"] for r in views.board.rows(dt.date(2024, 3, 1))] == ["yellow"]
        annual = annual_assessment(report_context(svc), 2024, dt.date(2024, 3, 1))
        assert annual["rules"]["lead_on_time"] == 3.0
    finally:
        svc.ledger.close()


@pytest.mark.parametrize(
    ("today", "periods", "keys"),
    [
        (dt.date(2025, 1, 10), ("2024-12", (2024, 4), 2024), ("2024-12", "2024-4", "2024")),
        (dt.date(2024, 4, 1), ("2024-03", (2024, 1), 2023), ("2024-03", "2024-1", "2023")),
        (dt.date(2024, 8, 31), ("2024-07", (2024, 2), 2023), ("2024-07", "2024-2", "2023")),
    ],
)
def test_a_scheduled_report_covers_the_period_before_today(
    today: dt.date, periods: tuple[object, ...], keys: tuple[str, ...]
) -> None:
    kinds: tuple[ReportKind[Any], ...] = (MONTHLY, QUARTERLY, ANNUAL)
    assert tuple(k.previous(today) for k in kinds) == periods
    assert tuple(k.key(k.previous(today)) for k in kinds) == keys  # as the message keys say


def test_each_kind_parses_its_period() -> None:
    assert [k.parse(t) for k, t in zip(REPORT_KINDS.values(), ("2024-03", "2024q2", "2024"))] == [
        "2024-03",
        (2024, 2),
        2024,
    ]
    for kind, text in ((MONTHLY, "2024-3"), (MONTHLY, "2024-13"), (QUARTERLY, "2024Q5")):
        with pytest.raises(ValueError):
            kind.parse(text)


def _duban(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["--config", str(config), *args])


def test_the_commands_refuse_a_bad_period_or_a_missing_output(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = tmp_path / "duban.toml"
    config.write_text(
        f'store = "{sqlite_url}"\n[[channels]]\nname = "office"\nplatform = "console"\n'
        '[[channels]]\nname = "leaders"\nplatform = "console"\n',
        encoding="utf-8",
    )
    for args, message in (
        (("monthly", "2024-13"), "错误：month must be in 1..12"),
        (("quarterly", "2024Q5"), "错误：quarter must be YYYYQn: '2024Q5'"),
        (("monthly", "2024-03", "--format", "xlsx"), "错误：--format xlsx 需要 --output 文件路径"),
        (("assessment", "abc"), "错误：参数「年度」的值无效：应为整数"),
    ):
        done = _duban(config, "report", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
