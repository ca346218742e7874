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
    assert cron.startswith("schedules.sweep: ")
    assert ladder.startswith("ladder.rungs[1]: ")
    assert "urge" in ladder
    assert template.startswith("templates: ")
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
    keys = [p.split(": ")[0] for p in problems_of(raw)]
    assert keys == ["units[0].channel", "ladder.rungs[1]", "templates", "schedules.deliver"]


def test_an_empty_template_directory_keeps_the_default_templates(tmp_path: Path) -> None:
    parse_config(config_with(templates=str(tmp_path)))


def test_a_problem_naming_braces_is_kept_as_written() -> None:
    (problem,) = problems_of(config_with(units=[{"name": "u", "channel": "{name}"}]))
    assert problem == "units[0].channel: no channel named '{name}'"
