"""Messages name a chat by whom it addresses, never by its code name (issue 14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from duban.app.routing import SOME_UNITS, Directory, chat_names
from duban.settings.config import parse_config
from notifiers.render import render_digest


def _config(**extra: Any) -> dict[str, Any]:
    channels = [
        {"name": code, "platform": "console"}
        for code in ("bb", "fgj", "office", "leaders", "chen", "spare")
    ]
    return {
        "channels": channels,
        "office": {"name": "县委改革办", "channel": "office", "leaders_channel": "leaders"},
        "units": [
            {"name": "县委编办", "channel": "bb"},
            {"name": "县发展和改革局", "channel": "fgj"},
            {"name": "县统计局", "channel": "fgj"},
            {"name": "县财政局", "channel": "office"},
        ],
        "officials": [{"name": "陈志远", "title": "县长", "channel": "chen"}],
        **extra,
    }


def test_each_chat_is_named_by_its_readers() -> None:
    names = chat_names(parse_config(_config()))
    assert names == {
        "bb": "县委编办",
        "fgj": "县发展和改革局、县统计局",  # in the order the config lists the units
        "office": "县委改革办",  # the office's chat, though a unit is routed there too
        "leaders": "县领导",
        "chen": "县长陈志远",
        "spare": SOME_UNITS,
    }


def test_a_configured_display_name_wins() -> None:
    raw = _config()
    raw["channels"][1] |= {"display_name": "发改统计联络群"}
    directory = Directory(parse_config(raw))
    assert directory.chat_name("fgj") == "发改统计联络群"
    assert directory.chat_name("bb") == "县委编办"
    assert directory.chat_name("nowhere") == SOME_UNITS


def test_a_digest_title_and_body_name_the_unit_not_the_chat_code() -> None:
    directory = Directory(parse_config(_config()))
    now = dt.datetime(2026, 12, 2, 9, 0)
    title, body = render_digest(directory.chat_name("bb"), [], now)
    assert title == "改革任务督办提醒｜县委编办｜2026年12月2日"
    assert body == "截至2026年12月2日 09:00，县委编办没有需要提醒的改革任务。"
