"""structlog, configured once: JSON for machines, Chinese lines for a person; secrets redacted
wherever they are.

Two formats (`configure_logging(json=…)`, the CLI's ``--log-json`` / ``--log-text`` or
``$DUBAN_LOG_JSON``):

- JSON (default when stderr is not a terminal: a journal, a log file, a pipe): one JSON
  object per line with its ``event`` name and every field, for machines and for grepping.
- text (default on a terminal): for the person who ran the command. A log call meant for
  that person carries ``message=`` — one Chinese sentence saying what happened and what it
  means (「2027年节假日安排尚未导入，暂按周一至周五计算工作日」) — and is printed as that
  sentence alone, after its level in Chinese: 「警告：2027年节假日安排……」. An entry without a
  ``message`` is technical (asked for with ``--log-level DEBUG``/``INFO``, or a bug) and is
  printed as structlog's key=value line.

The rule for code that logs: a warning or error a person at the terminal should act on gets a
``message`` in Chinese; the event name and fields stay for the JSON log, which also carries the
``message``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

__all__ = ["LEVEL_WORDS", "PersonRenderer", "configure_logging", "redact", "register_secrets"]

LEVEL_WORDS = {
    "debug": "调试",
    "info": "提示",
    "warning": "警告",
    "error": "错误",
    "critical": "严重错误",
    "exception": "错误",
}
"""A level as the ``text`` format prints it before a ``message``."""

_PATTERNS = (
    re.compile(r"(?i)((?:key|access_token|token|sign|secret|password)=)[^&\s\"']+"),
    re.compile(r"(?i)(/bot/v2/hook/)[A-Za-z0-9\-_]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.~+/=]+"),
    re.compile(r"(?i)(postgres(?:ql)?://[^:/\s]+:)[^@\s]+(?=@)"),
)
_known: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Literal secrets from the config (webhook URLs, robot secrets, tokens) to scrub."""
    _known.update(v for v in values if v and len(v) >= 6)


def redact(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    if isinstance(value, BaseException):
        return redact(repr(value))
    return value


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    return {key: _scrub(value) for key, value in event_dict.items()}


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written, not the one at configure time: a
    process that swaps it (a test runner capturing output, an embedding host) never has the
    logger writing to a stream that was closed since."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class PersonRenderer:
    """The text format: an entry with a ``message`` as 「警告：<message>」, any other as
    structlog's console line (see the module docstring)."""

    def __init__(self) -> None:
        self._technical = structlog.dev.ConsoleRenderer(colors=False)

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        message = event_dict.get("message")
        if isinstance(message, str) and message.strip():
            level = str(event_dict.get("level", method))
            line = f"{LEVEL_WORDS.get(level, '提示')}：{message.strip()}"
            trace = event_dict.get("exception")
            return f"{line}\n{trace}" if trace else line
        return str(self._technical(logger, method, event_dict))


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Call once at start-up. Logs go to stderr so stdout stays clean for --format json.
    `json`: True for JSON lines, False for the text a person reads, None: JSON unless stderr
    is a terminal (module docstring)."""
    as_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else PersonRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
