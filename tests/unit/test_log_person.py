"""The log's text format prints a warning meant for a person as one Chinese line; the JSON
format keeps the event name and every field (duban.settings.logs)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import pytest
import structlog

from duban.settings.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Each test configures structlog for its own buffer: the next test starts afresh."""
    yield
    structlog.reset_defaults()


MESSAGE = "2027年节假日安排尚未导入，暂按周一至周五计算工作日"


def _logged(monkeypatch: pytest.MonkeyPatch, json_lines: bool | None, **fields: object) -> str:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    configure_logging("WARNING", json=json_lines)
    structlog.get_logger("t").warning("calendar_year_not_covered", year=2027, **fields)
    return err.getvalue().strip()


def test_text_prints_the_message_alone_after_its_level(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _logged(monkeypatch, False, message=MESSAGE) == f"警告：{MESSAGE}"


def test_json_keeps_the_event_and_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = json.loads(_logged(monkeypatch, True, message=MESSAGE))
    assert entry["event"] == "calendar_year_not_covered"
    assert entry["year"] == 2027
    assert entry["message"] == MESSAGE


def test_text_without_a_message_is_the_technical_line(monkeypatch: pytest.MonkeyPatch) -> None:
    line = _logged(monkeypatch, False)
    assert "calendar_year_not_covered" in line
    assert "year=2027" in line


def test_not_a_terminal_defaults_to_json(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = json.loads(_logged(monkeypatch, None, message=MESSAGE))  # StringIO is no terminal
    assert entry["event"] == "calendar_year_not_covered"


def test_a_message_is_redacted_like_any_field(monkeypatch: pytest.MonkeyPatch) -> None:
    line = _logged(monkeypatch, False, message="机器人地址 https://x/bot/v2/hook/abcdef123 无效")
    assert "abcdef123" not in line
    assert line.startswith("警告：")


def test_a_line_goes_to_the_stderr_of_the_moment_not_one_closed_since(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A runner that captured stderr while the CLI configured logging closes that stream
    afterwards; the next warning must reach the stderr in place then (it used to raise
    「I/O operation on closed file」 inside whatever command logged next)."""
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("WARNING", json=False)
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    structlog.get_logger("t").warning("calendar_year_not_covered", message=MESSAGE)
    assert second.getvalue().strip() == f"警告：{MESSAGE}"
