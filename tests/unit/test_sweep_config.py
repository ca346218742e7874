"""The sweep's pure parts: ladder from the config, routing to chats, digest planning."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.ladder import DEFAULT_LADDER, Rung, TaskLadderInput
from duban.app.routing import Directory
from duban.app.sweep import ladder_from_config
from duban.settings.config import parse_config
from notifiers.limits import split_for_platform
from notifiers.split import utf8_len
from projections.due import DueTask
from tests.support.sweep import CZJ, FGJ, FGJ_LIAISON, OFFICIAL, OFFICIAL_MOBILE, county_config


def _config(**extra: Any) -> Any:
    return parse_config(county_config("sqlite:///unused.db", **extra))


def _task(lead: str = FGJ, co_units: tuple[str, ...] = (CZJ,)) -> DueTask:
    return DueTask(
        code="2024-01",
        title="任务",
        lead_unit=lead,
        co_units=co_units,
        official=OFFICIAL,
        last_report=None,
        ladder_input=TaskLadderInput("2024-01", dt.date(2024, 6, 28)),
        fired=frozenset(),
    )


def test_no_configured_rungs_means_the_default_ladder_with_the_configured_interval() -> None:
    ladder = ladder_from_config(_config(ladder={"repeat_every": 4}))
    assert ladder.rungs == DEFAULT_LADDER.rungs
    assert ladder.repeat_every == 4


def test_configured_rungs_get_severity_in_offset_order_and_known_labels() -> None:
    rungs = [
        {"name": "urge", "offset": 2, "audience": ["lead_unit"], "mention": True},
        {"name": "heads-up", "offset": -3, "audience": ["lead_unit"]},
    ]
    ladder = ladder_from_config(_config(ladder={"rungs": rungs}))
    assert [(r.name, r.severity, r.label) for r in ladder.rungs] == [
        ("heads-up", 1, "heads-up"),
        ("urge", 2, "催办"),
    ]


def test_supervise_reaches_the_lead_unit_its_co_units_the_office_and_the_official() -> None:
    directory = Directory(_config())
    routes = directory.routes(_task(), DEFAULT_LADDER.rung("supervise"))
    assert [(r.channel, r.mobiles) for r in routes] == [
        ("fgj", (FGJ_LIAISON,)),
        ("czj", ()),
        ("wang", (OFFICIAL_MOBILE,)),
        ("office", ()),
    ]


def test_co_units_join_from_urge_on_and_the_bulletin_reaches_the_lead_unit_too() -> None:
    directory = Directory(_config())
    chats = {
        name: [r.channel for r in directory.routes(_task(), DEFAULT_LADDER.rung(name))]
        for name in ("reminder", "urge", "bulletin")
    }
    assert chats["reminder"] == ["fgj"]
    assert chats["urge"] == ["fgj", "czj", "office"]
    assert chats["bulletin"][:2] == ["fgj", "czj"]
    assert {"office"} <= set(chats["bulletin"])


def test_co_units_are_told_without_mentions_and_unknown_units_fall_back_to_the_office() -> None:
    directory = Directory(_config())
    rung = Rung("wide", 1, frozenset({"lead_unit", "co_units"}), True, False, 3, "催办")
    routes = directory.routes(_task(lead="县外单位"), rung)
    assert [(r.channel, r.mobiles) for r in routes] == [("office", ()), ("czj", ())]


def test_a_custom_rung_is_shown_in_the_group_of_its_severity() -> None:
    rung = Rung("extra", 20, frozenset({"office"}), False, False, 9, "约谈")
    assert rung.counts_as == "bulletin"
    assert DEFAULT_LADDER.rung("notice").counts_as == "notice"


def test_a_long_digest_is_split_within_the_platform_limit_with_room_for_the_header() -> None:
    body = "\n".join(f"- **2024-{i:03d}** 很长的改革任务标题" * 3 for i in range(200))
    parts = split_for_platform("wecom", body, "标题", ("13800000001",))
    assert len(parts) > 1
    assert all(utf8_len(p) <= 4096 - 256 for p in parts)
