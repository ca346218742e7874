"""`duban task show` names the leading official with their title, as every document does."""

from __future__ import annotations

from duban.cli.task_view import task_lines


def test_the_leading_official_is_shown_with_the_title_the_config_gives() -> None:
    state = {"code": "2024-03", "official": "李振东", "status": "assigned"}
    lines = task_lines(state, {"李振东": "副县长"})
    assert "领衔领导：副县长李振东" in lines
    assert "领衔领导：李振东" in task_lines(state)  # no config title known: the name alone
    assert "领衔领导：无" in task_lines({**state, "official": None}, {"李振东": "副县长"})
