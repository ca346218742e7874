"""Config checks: the ladder and every schedule are validated at load, the offending key named."""

from __future__ import annotations

from typing import Any

import pytest

from domain.ladder import DEFAULT_LADDER
from duban.settings.config import SCHEDULE_NAMES, ConfigError, parse_config

CHANNELS = [{"name": "office", "platform": "console"}, {"name": "leaders", "platform": "console"}]


def config_with(**sections: Any) -> dict[str, Any]:
    return {"channels": CHANNELS, **sections}


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


def rung(name: str, offset: int, *audience: str) -> dict[str, Any]:
    return {"name": name, "offset": offset, "audience": list(audience or ["lead_unit"])}


def test_schedule_names_are_every_schedules_key() -> None:
    assert SCHEDULE_NAMES == (
        "sweep",
        "deliver",
        "report_round",
        "monthly_report",
        "quarterly_report",
        "annual_assessment",
        "chain_head",
        "calendar_watch",
    )


def test_the_default_config_passes_the_checks() -> None:
    parse_config(config_with())


def test_an_invalid_cron_expression_is_named_by_its_key() -> None:
    problems = problems_of(config_with(schedules={"sweep": "0 9 * * 1-8"}))
    assert len(problems) == 1
    assert problems[0].startswith("[schedules] sweep：")
    assert "1-8" in problems[0]


def test_every_invalid_schedule_is_reported_at_once() -> None:
    raw = config_with(schedules={"deliver": "61 * * * *", "chain_head": "every day"})
    keys = [p.split("：")[0] for p in problems_of(raw)]
    assert keys == ["[schedules] deliver", "[schedules] chain_head"]


def test_a_bad_working_day_rule_is_named_by_its_key() -> None:
    raw = config_with(
        schedules={"report_round": "workday 0 of month 09:00", "sweep": "every workday"}
    )
    problems = problems_of(raw)
    assert [p.split("：")[0] for p in problems] == ["[schedules] sweep", "[schedules] report_round"]
    assert "workday 0 of month 09:00" in problems[1]


def test_working_day_rules_and_plain_crons_are_both_accepted() -> None:
    schedules = {"report_round": "Workday 2 of month 08:30", "sweep": "*/15 9-17 * * *"}
    config = parse_config(config_with(schedules=schedules))
    assert config.schedules.report_round == "Workday 2 of month 08:30"


def test_the_defaults_follow_the_calendar() -> None:
    defaults = parse_config(config_with()).schedules
    assert defaults.report_round == "workday 1 of month 09:00"
    assert defaults.monthly_report == "workday 3 of month 10:00"
    assert defaults.quarterly_report == "workday 5 of quarter 10:00"
    assert defaults.annual_assessment == "workday 10 of year 10:00"
    assert all(
        getattr(defaults, name).startswith(("every workday", "workday")) for name in SCHEDULE_NAMES
    )


def test_a_cron_with_day_and_weekday_is_refused_not_reinterpreted() -> None:
    (problem,) = problems_of(config_with(schedules={"monthly_report": "0 10 3 * 1"}))
    assert problem.startswith("[schedules] monthly_report：")


def test_no_rungs_means_the_default_ladder_with_the_configured_repeat() -> None:
    config = parse_config(config_with(ladder={"repeat_every": 5}))
    ladder = config.ladder.build()
    assert ladder.rungs == DEFAULT_LADDER.rungs
    assert ladder.repeat_every == 5


def test_configured_rungs_get_severity_by_offset_and_known_labels() -> None:
    rungs = [
        rung("urge", 1, "lead_unit", "office"),
        rung("notice", -3),
        rung("外部通报", 8, "leaders"),
    ]
    ladder = parse_config(config_with(ladder={"rungs": rungs})).ladder.build()
    assert [(r.name, r.offset, r.severity) for r in ladder.rungs] == [
        ("notice", -3, 1),
        ("urge", 1, 2),
        ("外部通报", 8, 3),
    ]
    assert [r.label for r in ladder.rungs] == ["到期预告", "催办", "外部通报"]


def test_two_rungs_on_one_offset_name_the_second_rung() -> None:
    rungs = [rung("notice", -5), rung("urge", 1), rung("supervise", 1)]
    (problem,) = problems_of(config_with(ladder={"rungs": rungs}))
    assert problem.startswith("[ladder] rungs 第3项：")
    assert "supervise" in problem


def test_a_repeated_rung_name_names_its_repetition() -> None:
    rungs = [rung("urge", 1), rung("notice", -5), rung("urge", 3)]
    (problem,) = problems_of(config_with(ladder={"rungs": rungs}))
    assert problem.startswith("[ladder] rungs 第3项：")


def test_a_rung_name_with_the_key_separator_is_named() -> None:
    rungs = [rung("notice", -5), rung("ur|ge", 1)]
    (problem,) = problems_of(config_with(ladder={"rungs": rungs, "repeat_every": 0}))
    assert problem.startswith("[ladder] rungs 第2项：")


def test_repeats_are_of_the_top_rung_so_no_urge_rung_is_needed() -> None:
    rungs = [rung("notice", -5), rung("supervise", 5)]
    ladder = parse_config(config_with(ladder={"rungs": rungs})).ladder.build()
    assert ladder.repeat_every == 3
    assert ladder.rungs[-1].name == "supervise"
    parse_config(config_with(ladder={"rungs": rungs, "repeat_every": 0}))


def test_the_fair_ladder_and_claim_keys_are_configurable_and_checked() -> None:
    claim = [rung("claim_due", 0), rung("claim_overdue", 2)]
    raw = {"min_gap_working_days": 2, "claim_within_working_days": 5, "claim_rungs": claim}
    ladder = parse_config(config_with(ladder=raw)).ladder.build()
    assert (ladder.min_gap, ladder.claim_within) == (2, 5)
    assert [r.name for r in ladder.claim_rungs] == ["claim_due", "claim_overdue"]
    default = parse_config(config_with()).ladder.build()
    assert (default.min_gap, default.claim_within) == (1, 3)
    assert [r.offset for r in default.claim_rungs] == [-1, 0, 1]
    (problem,) = problems_of(config_with(ladder={"min_gap_working_days": 0}))
    assert problem.startswith("[ladder] min_gap_working_days")
    clash = [rung("claim_due", 0), rung("claim_due", 1)]
    (problem,) = problems_of(config_with(ladder={"claim_rungs": clash}))
    assert problem.startswith("[ladder] claim_rungs 第2项：")
