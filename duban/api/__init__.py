"""The HTTP API under `/api/v1` (OpenAPI at `/openapi.json`) and the web board at `/`, in one app.

`create_app(services)` wires the ledger and the token registry into a FastAPI app. Background
services (the scheduler) are started and stopped with the app through `background`: any object
with `start()` and `stop()`; both are called in a worker thread.

An entry point: imports `duban.app` (and `duban.settings`) and mounts `duban.web`; never
`projections`, `notifiers`, `scheduler` or `domain` directly.

An entry point: imports the application layer (`duban.app`), the settings and the web board
(`duban.web`, which it mounts), never `domain`, `projections`, `notifiers` or `scheduler`
directly, nor the CLI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import structlog
from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duban.api import admin, plans, tasks
from duban.api import documents as documents_api
from duban.api import files as files_api
from duban.api import inbound as inbound_api
from duban.api import instructions as instructions_api
from duban.api.deps import ServiceContext, checked_request
from duban.api.errors import ERROR_RESPONSES, install_error_handlers
from duban.api.fast_path import ReportShortWay
from duban.api.limits import RequestLimits
from duban.app.access import TokenRegistry
from duban.app.people import PeopleRegistry
from duban.app.reads import ReadModels
from duban.app.services import Services
from duban.web import mount_web

__all__ = ["API_PREFIX", "Background", "create_app"]

API_PREFIX = "/api/v1"
CSP = (
    "default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
log = structlog.get_logger("duban.http")

DESCRIPTION = """
督办台账的 HTTP API。每个请求都要带 `Authorization: Bearer <令牌>`；令牌由
`duban token issue --role office|liaison|official|auditor [--unit 单位] [--name 姓名]` 签发，
绑定一个角色（联络员还绑定单位）。错误一律返回 `{"error", "message", "fields"}`：
401 令牌缺失/无效/已吊销，403 无权，404 不存在，409 状态不允许或并发冲突，422 参数有误。
"""


class Background(Protocol):
    """A service that runs beside the API for the life of the server (e.g. the scheduler)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def _logs_requests() -> bool:
    """Whether the access line would be written (INFO enabled). Asked of the configured
    wrapper class: a call on the lazy module logger builds a bound logger each time (loggers
    are not cached, so that a test can reconfigure logging), ~3 % of a report's CPU when the
    line is filtered out anyway, as `duban serve` runs by default."""
    wrapper = structlog.get_config()["wrapper_class"]
    enabled = getattr(wrapper, "is_enabled_for", None)
    return enabled is None or bool(enabled(None, logging.INFO))


class AccessLog:
    """One structured log line per request: method, path (never the query), status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if _logs_requests():
                ms = round((time.perf_counter() - started) * 1000, 1)
                path = scope["path"]
                log.info("request", method=scope["method"], path=path, status=status, ms=ms)


class SecurityHeaders:
    """No script may run on our pages, whatever a task title contains; nothing frames them.
    No answer with task data is kept by a browser or a proxy (`no-store`: every answer but the
    static files); over https, browsers are told to stay on https (HSTS). The scheme is the
    connection's, or a trusted proxy's `X-Forwarded-Proto` as uvicorn applies it."""

    HEADERS = (
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )
    NO_STORE = (b"cache-control", b"no-store")
    HSTS = (b"strict-transport-security", b"max-age=31536000")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        no_store = not scope["path"].startswith("/static/")
        extra = [*self.HEADERS, *([self.NO_STORE] if no_store else [])]
        if scope.get("scheme") == "https":
            extra.append(self.HSTS)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if no_store:  # whatever the endpoint said about caching
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, sending)


def _lifespan(
    background: Sequence[Background],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for service in background:
            await run_in_threadpool(service.start)
        try:
            yield
        finally:
            for service in reversed(background):
                await run_in_threadpool(service.stop)

    return lifespan


def create_app(
    services: Services, background: Sequence[Background] = (), *, short_way: bool = True
) -> FastAPI:
    """The app; `short_way=False` sends every progress report through FastAPI's route (the
    tests compare both ways' answers)."""
    app = FastAPI(
        title="duban 督办 API",
        version="1",
        description=DESCRIPTION,
        lifespan=_lifespan(background),
        docs_url=None,  # Swagger UI would load its script from a CDN: /openapi.json is enough
        redoc_url=None,
    )
    ledger = services.ledger
    app.state.duban = ServiceContext(
        config=services.config,
        ledger=ledger,
        reads=ReadModels(services),
        people=PeopleRegistry.of(services),
        tokens=TokenRegistry.of(services),
    )
    install_error_handlers(app)
    routers = (tasks.router, plans.router, admin.router, instructions_api.router)
    for router in (*routers, documents_api.router):
        app.include_router(
            router,
            prefix=API_PREFIX,
            responses=ERROR_RESPONSES,
            dependencies=[Depends(checked_request)],
        )
    app.include_router(files_api.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.include_router(inbound_api.router, prefix=API_PREFIX)  # no token: the platform signs
    mount_web(app)
    limits = services.config.http
    if short_way:  # innermost of ours: inside the limits, which resolve the caller
        app.add_middleware(ReportShortWay, fastapi=app)
    app.add_middleware(
        RequestLimits, limits=limits, tokens=app.state.duban.tokens, web=services.config.web
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    return app
