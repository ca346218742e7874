"""structlog, configured once: JSON when not on a terminal, secrets redacted wherever they are."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "redact", "register_secrets"]

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


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Call once at start-up. Logs go to stderr so stdout stays clean for --format json."""
    as_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
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
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
