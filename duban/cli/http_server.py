"""The uvicorn settings of `duban serve`: what the server itself bounds, from `[http]`.

The app bounds each request's body (`duban.api.limits`); the server bounds the connections:

- a new connection must send its request headers within `header_timeout_s`, else it is closed
  (uvicorn alone would wait for ever: 300 connections that never finish their headers would
  hold 300 sockets);
- an idle kept-alive connection is closed after `keep_alive_s`;
- beyond `max_connections` open connections, requests are answered 503 at once.
"""

from __future__ import annotations

import asyncio

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from duban.settings.sections import Http

__all__ = ["HeaderTimeoutH11", "uvicorn_config"]


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose first request headers are late.

    Later requests on a kept-alive connection are bounded by uvicorn's keep-alive timer (it is
    cancelled only when a request's headers are complete)."""

    header_timeout_s: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.cycle is None and not self.transport.is_closing():  # no request yet
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)


def uvicorn_config(app: ASGIApp, host: str, port: int, http: Http) -> uvicorn.Config:
    protocol = type("BoundedH11", (HeaderTimeoutH11,), {"header_timeout_s": http.header_timeout_s})
    return uvicorn.Config(
        app, host=host, port=port, log_config=None, log_level="warning", access_log=False,
        timeout_graceful_shutdown=10, server_header=False, http=protocol,
        timeout_keep_alive=http.keep_alive_s, limit_concurrency=http.max_connections,
    )  # fmt: skip
