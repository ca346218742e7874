"""The progress report's short way through the app: `POST /api/v1/tasks/{code}/reports`.

A report is the one write that comes in bursts (a month-end round: every lead unit at once), and
on it FastAPI's general machinery — route matching over every route, four dependencies solved
per request, a lenient body validation followed by our strict one, the response model's
validation — cost about as much CPU as the ledger's whole command (docs/performance.md, "The
short way for reports"). This ASGI layer, the innermost of ours (inside `RequestLimits`, so the
body is bounded and timed and the caller's token was already checked or left to confirm), takes
a well-formed report and does with it exactly what the route would:

- the same checks as `checked_request` (no query parameters, no text the store cannot keep, the
  body strictly valid as `ReportBody`), then the same endpoint function (`tasks.report`) in a
  worker thread (`duban.api.workers`, a cheaper hand-off than anyio's), after the same
  confirmation of the token (`TokenRegistry.identify`);
- a failure is answered by the app's own exception handlers (the same status and body);
- anything it does not take — another path or method, a query string, a body that is not JSON
  or not strictly valid, a caller the middleware did not resolve — goes on to FastAPI unchanged
  (the body it read is handed on), which answers it as before. Nothing was done for it yet.

The route stays declared in FastAPI (OpenAPI, and the answer to anything passed on); a test
sends the same requests both ways and compares the answers byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duban.api import tasks
from duban.api.bodies import ReportBody
from duban.api.deps import ServiceContext, unstorable_text_at
from duban.api.limits import IDENTITY_STATE, UNCONFIRMED
from duban.api.schemas import CommandDone
from duban.api.workers import Workers
from duban.app.roles import Identity

__all__ = ["ReportShortWay"]

REPORT_PATH = re.compile(r"^/api/v1/tasks/([0-9A-Za-z\-_.]{1,40})/reports$")
JSON = b"application/json"


class ReportShortWay:
    """ASGI middleware: a well-formed progress report straight to its endpoint function."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi  # its state (the services) and its exception handlers
        self.workers = Workers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
            await self.app(scope, receive, send)
            return
        matched = REPORT_PATH.match(scope["path"])
        if matched is None or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body, last = await _read_body(receive)
        if last["type"] == "http.disconnect":
            return  # the client went away (or a limit refused the body: answered already)
        parsed = _strict_report(body)
        who = _resolved_caller(scope)
        if parsed is None or who is None:
            await self.app(scope, _replaying(body, receive), send)
            return
        ctx: ServiceContext = self.fastapi.state.duban
        try:
            done = await self.workers.run(_report, ctx, matched.group(1), parsed, who)
        except Exception as exc:
            await self._answer_error(scope, exc, send)
            return
        payload = done.model_dump_json().encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", JSON),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _answer_error(self, scope: Scope, exc: Exception, send: Send) -> None:
        handler = _handler_for(self.fastapi, exc)
        if handler is None:
            raise exc  # no handler: the server's error middleware answers 500, as for the route
        response: Response = await handler(Request(scope), exc)
        await response(scope, _no_more_body, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == JSON
    return False


async def _read_body(receive: Receive) -> tuple[bytes, Message]:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", message
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts), message


def _strict_report(body: bytes) -> ReportBody | None:
    """The report, if `checked_request` and FastAPI would both take the body as it is: strictly
    valid JSON for `ReportBody`, with no text the store cannot keep (`checked_request`'s test)."""
    if unstorable_text_at(body) is not None:
        return None  # the long way names where
    try:
        return ReportBody.model_validate_json(body, strict=True)
    except ValidationError:
        return None


def _resolved_caller(scope: Scope) -> Identity | tuple[Any, str, Identity] | None:
    """Who `RequestLimits` found: a confirmed identity, a cached one still to confirm, or None
    (the store failed there: the long way meets the failure again and answers for it)."""
    found = scope.get("state", {}).get(IDENTITY_STATE)
    if isinstance(found, Identity):
        return found
    return UNCONFIRMED.get()


def _report(
    ctx: ServiceContext,
    code: str,
    body: ReportBody,
    who: Identity | tuple[Any, str, Identity],
) -> CommandDone:
    if isinstance(who, Identity):
        return tasks.report(code, body, ctx, who)
    registry, presented, _ = who
    confirmed = registry.identify(presented)  # a revoked token or a disabled person: 401 here
    return tasks.report(code, body, ctx, confirmed)


def _handler_for(app: FastAPI, exc: Exception) -> Callable[..., Any] | None:
    for kind in type(exc).__mro__:
        handler = app.exception_handlers.get(kind)
        if handler is not None:
            return handler
    return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _no_more_body() -> Message:
    return {"type": "http.disconnect"}
