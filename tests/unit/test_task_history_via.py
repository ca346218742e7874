"""`duban task history`'s rows name the door an action came through, as the audit text does."""

from __future__ import annotations

from duban.cli.task_view import history_rows

LIAISON = "liaison:县发展和改革局/张伟"


def _actor(**fields: object) -> str:
    event = {"version": 2, "type": "ReformTask.ProgressReported", "actor": LIAISON, **fields}
    actor: str = history_rows([event])[0]["actor"]
    return actor


def test_a_web_session_a_token_and_the_command_line() -> None:
    assert _actor(via="session:AbC123").endswith("（网页登录）")
    assert _actor(via="token:ab12cd34ef56").endswith("（接口令牌 ab12cd34ef56）")
    assert "（" not in _actor(via=None)
    assert "（" not in _actor()  # an event stored before the door was recorded


def test_a_milestone_names_its_door_as_through() -> None:
    assert _actor(via="report", through="session:x1").endswith("（网页登录）")
    assert "（" not in _actor(via="report")


def test_a_malformed_door_is_not_shown() -> None:
    assert "（" not in _actor(via="session:<script>")
