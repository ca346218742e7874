"""Hostile HTTP clients against a real `duban serve`: huge bodies, no token, slow bodies, slow
headers; and the caching and transport headers of every answer.

Bodies are sent through raw sockets, chunk by chunk, so the client never holds them whole;
the server's memory is read from /proc/PID/status (VmRSS) while they are sent.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.api import write_config
from tests.support.server import ServeProcess, duban, rss_bytes, start_serve

MIB = 1024 * 1024
HUGE = 300 * MIB
RSS_CEILING = 300 * MIB
TIMEOUT_S = 2  # the test config's body and header timeouts
DEADLINE_S = 60  # how long a poll waits for what must happen well within TIMEOUT_S
IMPORT = "/api/v1/tasks/import"
HTTP_SECTION = f"""
[http]
max_body_bytes = {MIB}
max_import_bytes = {4 * MIB}
body_timeout_s = {TIMEOUT_S}
header_timeout_s = {TIMEOUT_S}
"""


@dataclass
class Served:
    server: ServeProcess
    token: str
    host: str = field(init=False)
    port: int = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.server.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    @property
    def pid(self) -> int:
        return self.server.process.pid


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("limits")
    config = write_config(home, f"sqlite:///{home / 'var' / 'duban.db'}")
    config.write_text(config.read_text(encoding="utf-8") + HTTP_SECTION, encoding="utf-8")
    duban(config, "init")
    token = duban(config, "token", "issue", "--role", "office", "--quiet").strip()
    server = start_serve(config, home / "logs", "--no-scheduler")
    yield Served(server, token)
    server.stop()


# ---- a raw HTTP/1.1 client ---------------------------------------------------------------


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    return ("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode()


def _connect(served: Served) -> socket.socket:
    sock = socket.create_connection((served.host, served.port), timeout=DEADLINE_S)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 256 * 1024)
    return sock


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer, read until it is complete or the peer closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def _closed_by_peer(sock: socket.socket) -> bool:
    """Polls until the server closes the connection (EOF or reset); False at the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            if sock.recv(65536) == b"":
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False


class _Sender(threading.Thread):
    """Sends `total` bytes (of a JSON-looking body) in chunks until done or the peer is gone;
    meanwhile samples the server's RSS."""

    def __init__(self, sock: socket.socket, total: int, pid: int, chunked: bool) -> None:
        super().__init__(daemon=True)
        self.sock, self.total, self.pid, self.chunked = sock, total, pid, chunked
        self.sent = 0
        self.peak_rss = rss_bytes(pid)

    def run(self) -> None:
        piece = b'{"rows": [' + b" " * (MIB - 10)
        try:
            while self.sent < self.total:
                data = piece[: self.total - self.sent]
                frame = f"{len(data):x}\r\n".encode() + data + b"\r\n" if self.chunked else data
                self.sock.sendall(frame)
                self.sent += len(data)
                self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))
            if self.chunked:
                self.sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection: what we want
        self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))


def _send_body(
    served: Served, path: str, total: int, *headers: str, chunked: bool = False
) -> tuple[int, dict[str, str], bytes, _Sender]:
    sock = _connect(served)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall(_head(path, framing, *headers))
    sender = _Sender(sock, total, served.pid, chunked)
    sender.start()
    try:
        answer = _read_answer(sock)
    finally:
        sender.join(DEADLINE_S)
        sock.close()
    return (*answer, sender)


def _error(body: bytes) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(body)
    assert set(parsed) == {"error", "message", "fields"}
    return parsed


# ---- huge bodies ---------------------------------------------------------------------------


def test_a_300_mb_body_without_token_is_refused_unread(served: Served) -> None:
    status, _, body, sender = _send_body(served, IMPORT, HUGE)
    assert status == 413
    assert _error(body)["error"] == "body_too_large"
    assert "请求体过大" in str(_error(body)["message"])
    assert sender.peak_rss < RSS_CEILING, sender.peak_rss
    assert sender.sent < HUGE  # the server stopped taking it


def test_a_300_mb_chunked_body_without_token_gets_401_before_it_is_read(served: Served) -> None:
    status, headers, body, sender = _send_body(served, IMPORT, HUGE, chunked=True)
    assert status == 401
    assert headers.get("www-authenticate") == "Bearer"
    assert _error(body)["error"] == "unauthenticated"
    assert sender.peak_rss < RSS_CEILING, sender.peak_rss
    assert sender.sent < HUGE


def test_a_bad_token_with_a_stalled_body_gets_401_at_once(served: Served) -> None:
    """The body never comes: only a check made before reading it can answer (401, not 408)."""
    sock = _connect(served)
    with sock:
        sock.sendall(_head(IMPORT, "Content-Length: 1000", "Authorization: Bearer dbn_x_y"))
        status, _, body = _read_answer(sock)
    assert status == 401
    assert _error(body)["message"] == "访问令牌无效"


def test_an_authenticated_body_over_the_limit_gets_413(served: Served) -> None:
    auth = f"Authorization: Bearer {served.token}"
    status, _, body, _ = _send_body(served, IMPORT, 5 * MIB, auth)  # Content-Length
    assert (status, _error(body)["error"]) == (413, "body_too_large")
    status, _, body, sender = _send_body(served, IMPORT, HUGE, auth, chunked=True)  # counted
    assert (status, _error(body)["error"]) == (413, "body_too_large")
    assert sender.peak_rss < RSS_CEILING, sender.peak_rss
    # Other endpoints have the smaller limit; the import limit is only the import's.
    status, _, _, _ = _send_body(served, "/api/v1/tasks", 2 * MIB, auth, chunked=True)
    assert status == 413


def test_a_body_within_the_limit_still_reaches_the_endpoint(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    answer = httpx.post(f"{served.server.url}{IMPORT}", json={"rows": []}, headers=headers)
    assert answer.status_code == 422  # validated by the endpoint: rows must not be empty
    assert "rows" in answer.text


# ---- slow clients ----------------------------------------------------------------------------


def test_fifty_half_sent_bodies_time_out_with_408_and_are_closed(served: Served) -> None:
    auth = f"Authorization: Bearer {served.token}"
    sockets = []
    for _ in range(50):
        sock = _connect(served)
        sock.sendall(_head("/api/v1/tasks/2024-01/reports", "Content-Length: 1000000", auth))
        sock.sendall(b'{"text": "')  # and then nothing
        sockets.append(sock)
    try:
        for sock in sockets:
            status, headers, body = _read_answer(sock)
            assert status == 408
            assert headers.get("connection") == "close"
            assert _error(body)["error"] == "body_timeout"
            assert _closed_by_peer(sock)
    finally:
        for sock in sockets:
            sock.close()


def test_a_trickling_body_times_out_too(served: Served) -> None:
    """One byte now and then keeps each read short: the deadline is for the whole body."""
    auth = f"Authorization: Bearer {served.token}"
    sock = _connect(served)
    with sock:
        sock.sendall(_head("/api/v1/tasks/2024-01/reports", "Content-Length: 1000", auth))
        answered = threading.Event()

        def trickle() -> None:
            while not answered.wait(0.2):
                try:
                    sock.sendall(b" ")
                except OSError:
                    return

        threading.Thread(target=trickle, daemon=True).start()
        try:
            status, _, _ = _read_answer(sock)
        finally:
            answered.set()
    assert status == 408


def test_connections_that_never_finish_their_headers_are_closed(served: Served) -> None:
    sockets = []
    for _ in range(50):
        sock = _connect(served)
        sock.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line
        sockets.append(sock)
    try:
        assert all(_closed_by_peer(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()
    assert httpx.get(f"{served.server.url}/healthz").status_code == 200


# ---- caching and transport headers -------------------------------------------------------


def test_api_answers_and_pages_are_not_stored(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.server.url, headers=headers) as client:
        for path in ("/api/v1/me", "/api/v1/board", "/api/v1/nothing-here", "/", "/tasks/x"):
            assert client.get(path).headers.get("cache-control") == "no-store", path
        refused = httpx.get(f"{served.server.url}/api/v1/me")
        assert refused.status_code == 401
        assert refused.headers.get("cache-control") == "no-store"
        assert "strict-transport-security" not in client.get("/api/v1/me").headers


def test_hsts_when_the_request_came_over_https(served: Served) -> None:
    """A TLS-terminating proxy on the same machine (uvicorn trusts 127.0.0.1's
    X-Forwarded-Proto): the request came over https, the answer says to stay on it."""
    headers = {"Authorization": f"Bearer {served.token}", "X-Forwarded-Proto": "https"}
    answer = httpx.get(f"{served.server.url}/api/v1/me", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert answer.headers["cache-control"] == "no-store"
