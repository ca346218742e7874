"""The uvicorn settings of `duban serve`: what the server itself bounds, from `[http]`.

The app bounds each request's body (`duban.api.limits`); the server bounds the connections:

- a new connection must send its request headers within `header_timeout_s`, else it is closed
  (uvicorn alone would wait for ever: 300 connections that never finish their headers would
  hold 300 sockets);
- an idle kept-alive connection is closed after `keep_alive_s`;
- beyond `max_connections` open connections, requests are answered 503 at once.

The HTTP parser is httptools and the event loop uvloop when they are installed (they are
dependencies on Linux and macOS; ~0.2 ms of the event loop's time per request fewer than h11
and asyncio's loop, the loop being the busiest thread under load), else h11 and asyncio.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from duban.settings.sections import Http


def _parser() -> type[asyncio.Protocol]:
    """httptools' protocol when httptools is installed, else h11's."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools not installed: h11 alone
        return H11Protocol
    return HttpToolsProtocol


__all__ = ["HeaderTimeout", "uvicorn_config"]


class HeaderTimeout:
    """Mixed into uvicorn's HTTP protocol (httptools' or h11's): a connection whose first
    request headers are late is closed.

    Later requests on a kept-alive connection are bounded by uvicorn's keep-alive timer (it is
    cancelled only when a request's headers are complete)."""

    header_timeout_s: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    cycle: Any
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.cycle is None and not self.transport.is_closing():  # no request yet
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)  # type: ignore[misc]


def uvicorn_config(app: ASGIApp, host: str, port: int, http: Http) -> uvicorn.Config:
    bounded = {"header_timeout_s": http.header_timeout_s}
    protocol = type("BoundedHTTP", (HeaderTimeout, _parser()), bounded)
    return uvicorn.Config(
        app, host=host, port=port, log_config=None, log_level="warning", access_log=False,
        timeout_graceful_shutdown=10, server_header=False, http=protocol,
        timeout_keep_alive=http.keep_alive_s, limit_concurrency=http.max_connections,
    )  # fmt: skip
