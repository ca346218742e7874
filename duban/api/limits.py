"""What a client may send, checked before anything reads it: one ASGI middleware.

`RequestLimits` answers, in the API's error shape (`{"error", "message", "fields"}`):

- 413 when `Content-Length` is over the limit, before a byte of the body is read;
- 401 for a request to `/api/v1` without a valid token, before its body is read (the token is
  asked of the registry here; FastAPI would parse the body first). The identity found is left
  in the request's state (`IDENTITY_STATE`) for the endpoint's `Caller`, so a request checks
  its token once. A token the registry already knows (`TokenRegistry.cached`, no I/O) is let
  through without that check and without a hop to a worker thread: it is left unconfirmed
  (`UNCONFIRMED`), and confirmed against the store in the endpoint's own worker thread
  before it acts (`duban.api.deps.ConfirmingRoute`) — a revoked token is still refused 401;
- 413 when a body without `Content-Length` (chunked) grows past the limit: it is counted as it
  arrives and never buffered beyond the limit;
- 408 when the body has not arrived whole within `body_timeout_s` of the request (a client
  that trickles or stalls).

The limit is `[http] max_import_bytes` for `POST /api/v1/tasks/import`, `[web]
max_request_bytes` (files of the largest size, `max_files` of them) for an upload of evidence
files (`UPLOAD_PATHS`: the API's and the web forms that carry files), else `max_body_bytes`.
A refusal on a path outside `/api/v1` (a web form) is a Chinese HTML page instead of JSON:
「上传的文件过大：每个文件不超过 20 MB，每次最多 10 个」 for a form with files (from `[web]`),
「上传的任务清单过大」 for the office's task-list upload (`WEB_IMPORT_PATH`, which has the
import's limit). An early refusal closes the connection (`Connection: close`), so the unread
rest of the body is never read. Slow request headers and idle connections are the server's
business (`duban.cli.server`).
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duban.api.schemas import ErrorBody
from duban.app.access import TokenRegistry
from duban.app.errors import Unauthenticated
from duban.app.roles import Identity
from duban.settings.sections import Http, Web

__all__ = [
    "IDENTITY_STATE",
    "IMPORT_PATH",
    "UNCONFIRMED",
    "UPLOAD_PATHS",
    "WEB_IMPORT_PATH",
    "RequestLimits",
    "bearer_token",
]

API_PREFIX = "/api/v1"
IMPORT_PATH = f"{API_PREFIX}/tasks/import"
WEB_IMPORT_PATH = "/office/import"  # the 工作台's task-list upload: the import's limit
# Where files are uploaded: the API's upload, and the web workspace's task forms (a report,
# an extension request, a completion: `/tasks/{code}/<form>`), the only forms with files.
IDENTITY_STATE = "duban.identity"  # the request state's key for the caller this middleware found
UNCONFIRMED: ContextVar[tuple[TokenRegistry, str, Identity] | None] = ContextVar(
    "duban_unconfirmed_caller", default=None
)  # this request's (registry, token, identity cached for the token), not re-checked yet
UPLOAD_PATHS = re.compile(rf"^(?:{API_PREFIX}/files|/tasks/[0-9A-Za-z\-_.]+/[a-z][a-z/_-]*)$")


def bearer_token(headers: Headers) -> str | None:
    """The token of `Authorization: Bearer TOKEN` (as FastAPI's HTTPBearer reads it)."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class RequestLimits:
    def __init__(
        self, app: ASGIApp, limits: Http, tokens: TokenRegistry, web: Web | None = None
    ) -> None:
        self.app = app
        self.limits = limits
        self.tokens = tokens
        self.web = web or Web()

    def limit_for(self, path: str) -> int:
        if path in (IMPORT_PATH, WEB_IMPORT_PATH):
            return self.limits.max_import_bytes
        if UPLOAD_PATHS.match(path):
            return max(self.web.max_request_bytes, self.limits.max_body_bytes)
        return self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit_for(scope["path"])
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            await self.refuse(scope["path"], send, 413, "body_too_large", _too_large(limit))
            return
        unconfirmed = UNCONFIRMED.set(None)
        try:
            if _is_api(scope["path"]) and not scope["path"].startswith(INBOUND_PATHS):
                refusal = await self._unauthenticated(scope, headers)
                if refusal is not None:
                    await _refuse(send, 401, Unauthenticated.code, refusal, challenge=True)
                    return
            bounded = _Bounded(scope, receive, send, limit, self.limits.body_timeout_s, self.refuse)
            await bounded.run(self.app)
        finally:
            UNCONFIRMED.reset(unconfirmed)

    async def refuse(self, path: str, send: Send, status: int, code: str, text: str) -> None:
        """The refusal in the API's JSON shape, or as a Chinese page for a web form."""
        if _is_api(path):
            await _refuse(send, status, code, text)
        else:
            await _refuse_page(send, status, self.page_text(path, status))

    def page_text(self, path: str, status: int) -> str:
        """What a person who sent a form too large or too slowly is told."""
        if status == 408:
            return "提交超时，未作任何处理。请检查网络后返回上一页重新提交。"
        if path == WEB_IMPORT_PATH:
            return f"上传的任务清单过大：上限为 {_mb(self.limits.max_import_bytes)}"
        if UPLOAD_PATHS.match(path):
            each = _mb(self.web.max_upload_bytes)
            return f"上传的文件过大：每个文件不超过 {each}，每次最多 {self.web.max_files} 个"
        return f"提交的内容过大：上限为 {_mb(self.limits.max_body_bytes)}"

    async def _unauthenticated(self, scope: Scope, headers: Headers) -> str | None:
        """Why the caller is nobody, or None (the caller then waits in the request's state);
        a store failure is left to the endpoint."""
        presented = bearer_token(headers)
        cached = self.tokens.cached(presented)
        if presented is not None and cached is not None:  # confirmed in the endpoint's thread
            UNCONFIRMED.set((self.tokens, presented, cached))
            return None
        try:
            who = await run_in_threadpool(self.tokens.identify, presented)
        except Unauthenticated as exc:
            return exc.message
        except Exception:  # the store failed: the endpoint meets it again and answers for it
            return None
        scope.setdefault("state", {})[IDENTITY_STATE] = who
        return None


class _Bounded:
    """One request whose body is counted and timed as the app reads it. When the body breaks
    a limit, the refusal is sent here and the app is told the client went away; whatever the
    app answers then is dropped."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limit: int,
        timeout: float,
        refuse: _Refuser,
    ) -> None:
        self.scope, self._receive, self._send = scope, receive, send
        self._refuser = refuse
        self.limit = limit
        self.deadline = asyncio.get_running_loop().time() + timeout
        self.received = 0
        self.started = False  # a response has begun (the app's or ours)
        self.refused = False

    async def run(self, app: ASGIApp) -> None:
        await app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        left = self.deadline - asyncio.get_running_loop().time()
        try:
            message = await asyncio.wait_for(self._receive(), timeout=max(left, 0.001))
        except TimeoutError:
            return await self._refuse(408, "body_timeout", "请求体发送超时，连接已关闭")
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                return await self._refuse(413, "body_too_large", _too_large(self.limit))
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _refuse(self, status: int, code: str, text: str) -> Message:
        if not self.started:
            self.started = True
            await self._refuser(self.scope["path"], self._send, status, code, text)
        self.refused = True
        return {"type": "http.disconnect"}


_Refuser = Callable[[str, Send, int, str, str], Awaitable[None]]


# The platforms' callbacks (duban.api.inbound) carry no bearer token: their signature is the check.
INBOUND_PATHS = (f"{API_PREFIX}/inbound/",)


def _is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(f"{API_PREFIX}/")


def _too_large(limit: int) -> str:
    return f"请求体过大：上限为 {_size(limit)}"


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} 字节"


def _mb(n: int) -> str:
    """A size as people write it: 20 MB (whole MiB), 512 KB, else bytes."""
    return _size(n).replace("MiB", "MB").replace("KiB", "KB")


_PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<title>未能提交</title><link rel="stylesheet" href="/static/board.css"></head>'
    '<body><main><h1>未能提交</h1><p class="error" role="alert" id="refused">{text}</p>'
    '<p>本次提交未作任何处理，请返回上一页修改后重新提交。</p><p><a href="/">返回首页</a></p>'
    "</main></body></html>"
)


async def _refuse_page(send: Send, status: int, text: str) -> None:
    """A web form's refusal: a small Chinese page (no template: the app never ran)."""
    body = _PAGE.format(text=html.escape(text)).encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(send: Send, status: int, code: str, text: str, challenge: bool = False) -> None:
    """An error answer in the API's shape; the connection closes after it."""
    body = ErrorBody(error=code, message=text).model_dump_json().encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if challenge:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
