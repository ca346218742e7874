"""The access line (duban.api.AccessLog): written at INFO with method, path, status and
duration, never the query; skipped without building a logger when INFO is filtered out."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Iterator

import pytest
import structlog
from starlette.types import Message, Receive, Scope, Send

from duban.api import AccessLog
from duban.settings.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


async def _teapot(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 418, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _request(level: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Message], str]:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    configure_logging(level, json=True)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/board", "query_string": b"t=x"}
    asyncio.run(AccessLog(_teapot)(scope, receive, send))
    return sent, err.getvalue()


def test_at_info_one_line_names_the_request_and_not_its_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent, logged = _request("INFO", monkeypatch)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    (line,) = logged.splitlines()
    entry = json.loads(line)
    assert (entry["event"], entry["method"], entry["path"], entry["status"]) == (
        "request",
        "GET",
        "/board",
        418,
    )
    assert isinstance(entry["ms"], float)
    assert "t=x" not in line


def test_above_info_nothing_is_written_and_no_logger_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[object] = []
    original = structlog.PrintLoggerFactory.__call__

    def counting(self: structlog.PrintLoggerFactory, *args: object) -> structlog.PrintLogger:
        built.append(args)
        return original(self, *args)

    monkeypatch.setattr(structlog.PrintLoggerFactory, "__call__", counting)
    sent, logged = _request("WARNING", monkeypatch)
    assert len(sent) == 2
    assert logged == ""
    assert built == []
