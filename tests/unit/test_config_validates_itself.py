"""The config validates itself completely when parsed: crons, ladder and templates are refused
with the key named, whatever else has (or has not) been imported — no registry, no import order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from duban.settings.config import Config, ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = [{"name": "office", "platform": "console"}, {"name": "leaders", "platform": "console"}]

# Run in a fresh interpreter that imports the config module and nothing else of ours.
FRESH = """
import json, sys
from duban.settings.config import ConfigError, parse_config

found = {}
for name, raw in json.loads(sys.argv[1]).items():
    try:
        parse_config(raw)
    except ConfigError as exc:
        found[name] = exc.problems
    else:
        found[name] = []
ours = ("duban.app", "duban.bootstrap", "duban.cli", "duban.api", "duban.web", "scheduler.jobs")
found["imported"] = sorted(m for m in sys.modules if m.startswith(ours))
print(json.dumps(found))
"""


def config_with(**sections: Any) -> dict[str, Any]:
    return {"channels": CHANNELS, **sections}


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


def test_a_fresh_interpreter_importing_only_the_config_refuses_each_with_its_key(
    tmp_path: Path,
) -> None:
    configs = {
        "cron": config_with(schedules={"sweep": "not a cron"}),
        "ladder": config_with(
            ladder={
                "rungs": [
                    {"name": "notice", "offset": -5, "audience": ["lead_unit"]},
                    {"name": "urge", "offset": -5, "audience": ["lead_unit"]},
                ]
            }
        ),
        "template": config_with(templates=str(tmp_path / "no-such-templates")),
        "valid": config_with(),
    }
    result = subprocess.run(
        [sys.executable, "-c", FRESH, json.dumps(configs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(result.stdout)
    assert found["imported"] == []
    assert found["valid"] == []
    ((cron,), (ladder,), (template,)) = found["cron"], found["ladder"], found["template"]
    assert cron.startswith("[schedules] sweep：")
    assert ladder.startswith("[ladder] rungs 第2项：")
    assert "urge" in ladder
    assert template.startswith("templates：")
    assert "no-such-templates" in template


def test_the_model_itself_refuses_what_parse_config_refuses() -> None:
    with pytest.raises(ValidationError) as caught:
        Config.model_validate(config_with(schedules={"chain_head": "every day"}))
    assert [e["loc"] for e in caught.value.errors()] == [("schedules", "chain_head")]


def test_cross_references_ladder_templates_and_crons_are_reported_together(
    tmp_path: Path,
) -> None:
    raw = config_with(
        units=[{"name": "县财政局", "channel": "czj"}],
        ladder={
            "rungs": [
                {"name": "notice", "offset": -5, "audience": ["lead_unit"]},
                {"name": "notice", "offset": 1, "audience": ["lead_unit"]},
            ]
        },
        templates=str(tmp_path / "missing"),
        schedules={"deliver": "61 * * * *"},
    )
    keys = [p.split("：")[0] for p in problems_of(raw)]
    assert keys == [
        "[[units]] 第1项 channel",
        "[ladder] rungs 第2项",
        "templates",
        "[schedules] deliver",
    ]


def test_an_empty_template_directory_keeps_the_default_templates(tmp_path: Path) -> None:
    parse_config(config_with(templates=str(tmp_path)))


def test_a_problem_naming_braces_is_kept_as_written() -> None:
    (problem,) = problems_of(config_with(units=[{"name": "u", "channel": "{name}"}]))
    assert problem == "[[units]] 第1项 channel：没有名为「{name}」的群（[[channels]] 中未定义）"


# ---- issue 14: every problem in Chinese, the key path as the admin wrote it ---------------


def test_pydantic_and_our_own_problems_are_chinese_with_the_toml_key_path() -> None:
    raw = config_with(
        timezone="Mars/Olympus",
        units=[
            {"name": "县财政局", "channel": "office", "liaisons": [{"name": "张", "mobile": "12"}]},
            {"name": "县教体局"},
        ],
        working_hours={"start": "18:00", "end": "09:00"},
        ladder={"repeat_every": -1},
        documents={"office_short": "县 改办"},
        bogus=1,
    )
    raw["channels"] = [*CHANNELS, {"name": "qq", "platform": "qq"}]
    assert problems_of(raw) == [
        "timezone：未知的时区「Mars/Olympus」（如 Asia/Shanghai）",
        "[[channels]] 第3项 platform："
        "应为「wecom（企业微信）」、「dingtalk（钉钉）」、「feishu（飞书）」、「console（控制台）」之一",
        "[[units]] 第1项 liaisons 第1项 mobile：手机号应为以1开头的11位数字",
        "[[units]] 第2项 channel：缺少必填项",
        "[working_hours]：上班时间 18:00 应早于下班时间 09:00",
        "[ladder] repeat_every：不能小于0",
        "[documents] office_short：机关简称不能含括号或空格（如 县改办）",
        "bogus：不是可填写的项（请检查拼写或删除）",
    ]


def test_a_channel_without_its_webhook_and_a_bad_store_are_said_in_chinese() -> None:
    raw = config_with(store="mysql://db")
    raw["channels"] = [*CHANNELS, {"name": "czj", "platform": "wecom"}]
    assert problems_of(raw) == [
        "store：存储地址应以 sqlite:/// 或 postgresql:// 开头",
        "[[channels]] 第3项：群「czj」使用企业微信机器人，须填写 webhook 地址",
    ]


def test_the_error_itself_heads_each_problem_with_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config_with(units=[{"name": "县财政局", "channel": "czj"}]), "duban.toml")
    assert str(caught.value) == (
        "配置文件 duban.toml 无法使用（1处错误）：\n"
        "  配置错误：[[units]] 第1项 channel：没有名为「czj」的群（[[channels]] 中未定义）"
    )


def test_a_missing_or_broken_file_is_said_in_chinese(tmp_path: Path) -> None:
    from duban.settings.config import load_config

    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "none.toml")
    assert missing.value.problems == ["找不到配置文件"]
    broken = tmp_path / "broken.toml"
    broken.write_text('timezone = "Asia/Shanghai"\nstore sqlite\n', encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_config(broken)
    (problem,) = bad.value.problems
    assert problem.startswith("不是有效的 TOML 格式：第2行第7列附近有语法错误")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('[office]\nname = "县委改革办"\n'.encode("gbk"))
    with pytest.raises(ConfigError) as encoded:
        load_config(gbk)
    assert encoded.value.problems == ["配置文件不是 UTF-8 编码，请另存为 UTF-8 后重试"]


def test_a_template_that_does_not_compile_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "digest.md.j2").write_text("第一行\n{% if %}\n", encoding="utf-8")
    problems = problems_of(config_with(templates=str(tmp_path)))
    assert problems == ["templates：模板「digest.md.j2」第2行有语法错误，无法编译"]
