"""A local HTTP server that behaves like the WeCom, DingTalk and Feishu robot webhooks.

It is a real server (stdlib `http.server` on 127.0.0.1, a free port, a background thread) that
speaks each platform's protocol at the platform's own paths, so notifiers are tested over real
HTTP, not against a mock of our own code. Like the platforms, it answers HTTP 200 with a code
in the body, counts sizes in UTF-8 bytes, enforces the rate limits (with configurable windows
so tests need not wait minutes), checks signatures with its own implementation of each
platform's algorithm, checks keywords, and can be told to fail the next requests in the ways
the real ones do (502, a hang, a throttle code, a body that is not JSON).

    with FakePlatforms() as fake:
        url = fake.add_dingtalk(secret="SEC...", keyword="督办")
        ...  # allowed_hosts=[fake.host]
        assert fake.accepted[0].mobiles == ["13800000001"]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest

__all__ = [
    "Accepted",
    "Answered",
    "FakeClock",
    "FakePlatforms",
    "fake_platforms",
]

Platform = Literal["wecom", "dingtalk", "feishu"]
Body = dict[str, Any]
_WECOM_PATH = "/cgi-bin/webhook/send"
_DINGTALK_PATH = "/robot/send"
_FEISHU_PATH = "/open-apis/bot/v2/hook/"


class FakeClock:
    """A clock tests move by hand: `clock()` reads it, `clock.advance(s)` moves it."""

    def __init__(self, start: float = 1_717_203_600.0) -> None:  # 2024-06-01 09:00 +08:00
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@dataclass(frozen=True)
class Answered:
    """Every request the server answered, accepted or not."""

    platform: str
    robot: str
    http_status: int
    code: int | None
    msg: str


@dataclass(frozen=True)
class Accepted:
    """A message the platform accepted, as a group chat would show it."""

    platform: str
    robot: str
    body: Body
    query: dict[str, str]
    at: float

    @property
    def msgtype(self) -> str:
        return str(self.body.get("msgtype") or self.body.get("msg_type"))

    @property
    def text(self) -> str:
        """All the text a reader sees (for Feishu: title and every text element, joined)."""
        if self.platform == "feishu":
            return "\n".join(_feishu_strings(self.body.get("content") or self.body.get("card", {})))
        inner = self.body.get(self.msgtype, {})
        return str(inner.get("content") or inner.get("text") or "")

    @property
    def title(self) -> str | None:
        if self.platform == "dingtalk" and self.msgtype in ("markdown", "actionCard"):
            return str(self.body[self.msgtype]["title"])
        if self.platform == "feishu" and self.msgtype == "post":
            return str(self.body["content"]["post"]["zh_cn"]["title"])
        if self.platform == "feishu" and self.msgtype == "interactive":
            return str(self.body["card"]["header"]["title"]["content"])
        return None

    @property
    def buttons(self) -> list[str]:
        """The addresses of the message's buttons (DingTalk ActionCard, Feishu card)."""
        if self.msgtype == "actionCard":
            card = self.body["actionCard"]
            if "singleURL" in card:
                return [str(card["singleURL"])]
            return [str(b["actionURL"]) for b in card.get("btns", [])]
        if self.msgtype == "interactive":
            elements = self.body["card"].get("elements", [])
            return [
                str(b["url"])
                for e in elements
                if e.get("tag") == "action"
                for b in e.get("actions", [])
            ]
        return []

    @property
    def mobiles(self) -> list[str]:
        """Mobile numbers the platform will @: WeCom text mentions, DingTalk `at.atMobiles`."""
        if self.platform == "wecom":
            return list(self.body.get("text", {}).get("mentioned_mobile_list", []))
        if self.platform == "dingtalk":
            return list(self.body.get("at", {}).get("atMobiles", []))
        return []

    @property
    def at_tags(self) -> list[dict[str, Any]]:
        """Feishu `at` elements of a post."""
        if self.platform != "feishu" or self.msgtype != "post":
            return []
        lines = self.body["content"]["post"]["zh_cn"]["content"]
        return [el for line in lines for el in line if el.get("tag") == "at"]


def _feishu_strings(node: Any) -> Iterator[str]:
    """Every string a reader sees in a Feishu message: titles and texts, however nested."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("title", "text", "content") and isinstance(value, str):
                yield value
            elif isinstance(value, dict | list):
                yield from _feishu_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _feishu_strings(item)


@dataclass
class _Robot:
    platform: Platform
    secret: str | None = None
    keyword: str | None = None
    sends: deque[float] = field(default_factory=deque)
    recent: deque[float] = field(default_factory=deque)  # Feishu's per-second window
    blocked_until: float = 0.0


@dataclass
class _Injection:
    kind: Literal["status", "hang", "code", "malformed"]
    times: int
    status: int = 502
    seconds: float = 0.0
    code: int = 0
    msg: str = ""


@dataclass
class _Reply:
    status: int
    body: bytes
    code: int | None = None
    msg: str = ""


class FakePlatforms:
    """The three robot platforms on one local port. Limits and windows are configurable."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        rate_window_s: float = 60.0,
        wecom_per_window: int = 20,
        dingtalk_per_window: int = 20,
        dingtalk_block_s: float = 600.0,
        feishu_per_window: int = 100,
        feishu_per_second: int = 5,
        feishu_second_s: float = 1.0,
        signature_tolerance_s: float = 3600.0,
        wecom_text_max: int = 2048,
        wecom_markdown_max: int = 4096,
        dingtalk_body_max: int = 20000,
        feishu_body_max: int = 20 * 1024,
    ) -> None:
        self.clock = clock
        self.rate_window_s = rate_window_s
        self.wecom_per_window = wecom_per_window
        self.dingtalk_per_window = dingtalk_per_window
        self.dingtalk_block_s = dingtalk_block_s
        self.feishu_per_window = feishu_per_window
        self.feishu_per_second = feishu_per_second
        self.feishu_second_s = feishu_second_s
        self.signature_tolerance_s = signature_tolerance_s
        self.wecom_text_max = wecom_text_max
        self.wecom_markdown_max = wecom_markdown_max
        self.dingtalk_body_max = dingtalk_body_max
        self.feishu_body_max = feishu_body_max
        self._robots: dict[tuple[Platform, str], _Robot] = {}
        self._injections: deque[_Injection] = deque()
        self._accepted: list[Accepted] = []
        self._answered: list[Answered] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakePlatforms:
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},  # how long `stop` may wait for the loop to notice
            name="fake-platforms",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hung requests
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakePlatforms:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, for the notifiers' `allowed_hosts`."""
        if self._server is None:
            raise RuntimeError("the fake platforms are not running")
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    # -- robots ------------------------------------------------------------------------------

    def add_wecom(self, key: str | None = None) -> str:
        key = key or secrets.token_hex(16)
        self._robots["wecom", key] = _Robot("wecom")
        return f"{self.base_url}{_WECOM_PATH}?key={key}"

    def add_dingtalk(
        self, token: str | None = None, *, secret: str | None = None, keyword: str | None = None
    ) -> str:
        token = token or secrets.token_hex(32)
        self._robots["dingtalk", token] = _Robot("dingtalk", secret, keyword)
        return f"{self.base_url}{_DINGTALK_PATH}?access_token={token}"

    def add_feishu(
        self, hook_id: str | None = None, *, secret: str | None = None, keyword: str | None = None
    ) -> str:
        hook_id = hook_id or secrets.token_hex(18)
        self._robots["feishu", hook_id] = _Robot("feishu", secret, keyword)
        return f"{self.base_url}{_FEISHU_PATH}{hook_id}"

    # -- failure injection (applies to the next requests, whatever the robot) ----------------

    def fail_next(self, times: int = 1, status: int = 502) -> None:
        """Answer the next `times` requests with this HTTP status and an HTML error page."""
        self._inject(_Injection("status", times, status=status))

    def hang_next(self, seconds: float, times: int = 1) -> None:
        """Hold the next requests `seconds` before handling them normally (a slow platform)."""
        self._inject(_Injection("hang", times, seconds=seconds))

    def answer_next(self, code: int, msg: str, times: int = 1) -> None:
        """Answer the next requests with HTTP 200 and this platform code (e.g. a throttle)."""
        self._inject(_Injection("code", times, code=code, msg=msg))

    def malformed_next(self, times: int = 1) -> None:
        """Answer the next requests with HTTP 200 and a body that is not JSON."""
        self._inject(_Injection("malformed", times))

    def _inject(self, injection: _Injection) -> None:
        with self._lock:
            self._injections.append(injection)

    # -- what happened -----------------------------------------------------------------------

    @property
    def accepted(self) -> list[Accepted]:
        with self._lock:
            return list(self._accepted)

    @property
    def answered(self) -> list[Answered]:
        with self._lock:
            return list(self._answered)

    def messages(self, platform: str | None = None, robot: str | None = None) -> list[Accepted]:
        return [
            m
            for m in self.accepted
            if (platform is None or m.platform == platform) and (robot is None or m.robot == robot)
        ]

    # -- the platforms -----------------------------------------------------------------------

    def handle(self, path: str, raw: bytes) -> _Reply:
        injected = self._next_injection()
        if injected is not None:
            reply = self._injected(injected, path)
            if reply is not None:
                return reply
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:  # one request at a time through the rules, like a consistent platform
            if parts.path == _WECOM_PATH:
                return self._record("wecom", query.get("key", ""), query, raw, self._wecom)
            if parts.path == _DINGTALK_PATH:
                token = query.get("access_token", "")
                return self._record("dingtalk", token, query, raw, self._dingtalk)
            if parts.path.startswith(_FEISHU_PATH):
                hook_id = parts.path.removeprefix(_FEISHU_PATH)
                return self._record("feishu", hook_id, query, raw, self._feishu)
        return _Reply(404, b"404 page not found")

    def _next_injection(self) -> _Injection | None:
        with self._lock:
            if not self._injections:
                return None
            injection = self._injections[0]
            injection.times -= 1
            if injection.times <= 0:
                self._injections.popleft()
            return injection

    def _injected(self, injection: _Injection, path: str) -> _Reply | None:
        if injection.kind == "hang":
            self._stopping.wait(injection.seconds)
            return None
        if injection.kind == "status":
            return _Reply(injection.status, b"<html><body>502 Bad Gateway</body></html>")
        if injection.kind == "malformed":
            return _Reply(200, b"<html>upstream error</html>")
        if path.startswith(_FEISHU_PATH):
            return _json(injection.code, injection.msg, keys=("code", "msg"))
        return _json(injection.code, injection.msg)

    def _record(
        self,
        platform: Platform,
        robot_id: str,
        query: dict[str, str],
        raw: bytes,
        rules: Callable[[_Robot, dict[str, str], bytes, float], tuple[_Reply, Body | None]],
    ) -> _Reply:
        now = self.clock()
        robot = self._robots.get((platform, robot_id))
        if robot is None:
            reply, body = _unknown_robot(platform), None
        else:
            reply, body = rules(robot, query, raw, now)
        if body is not None:
            self._accepted.append(Accepted(platform, robot_id, body, query, now))
        self._answered.append(Answered(platform, robot_id, reply.status, reply.code, reply.msg))
        return reply

    def _wecom(
        self, robot: _Robot, query: dict[str, str], raw: bytes, now: float
    ) -> tuple[_Reply, Body | None]:
        body = _parse(raw)
        msgtype = body.get("msgtype") if body else None
        if body is None or msgtype not in ("text", "markdown"):
            return _json(40008, "invalid message type"), None
        if not _take(robot.sends, self.wecom_per_window, self.rate_window_s, now):
            return _json(45009, "api freq out of limit"), None
        content = str(body[msgtype].get("content", ""))
        limit = self.wecom_text_max if msgtype == "text" else self.wecom_markdown_max
        if len(content.encode("utf-8")) > limit:
            return _json(40058, f"{msgtype}.content exceed max length {limit}"), None
        return _json(0, "ok"), body

    def _dingtalk(
        self, robot: _Robot, query: dict[str, str], raw: bytes, now: float
    ) -> tuple[_Reply, Body | None]:
        if robot.secret is not None:
            refusal = self._dingtalk_signature(robot.secret, query, now)
            if refusal is not None:
                return refusal, None
        if len(raw) > self.dingtalk_body_max:
            return _json(460101, f"message too long, exceed {self.dingtalk_body_max} bytes"), None
        body = _parse(raw)
        if body is None or body.get("msgtype") not in ("text", "markdown", "actionCard"):
            return _json(40035, "缺少参数 json"), None
        if body["msgtype"] == "actionCard" and not _action_card_ok(body):
            return _json(40035, "缺少参数 actionCard"), None
        if robot.keyword and robot.keyword not in _dingtalk_text(body):
            return _json(310000, "keywords not in content"), None
        if robot.blocked_until > now:
            return _json(130101, "send too fast, exceed 20 times per minute"), None
        if not _take(robot.sends, self.dingtalk_per_window, self.rate_window_s, now):
            robot.blocked_until = now + self.dingtalk_block_s
            return _json(130101, "send too fast, exceed 20 times per minute"), None
        return _json(0, "ok"), body

    def _dingtalk_signature(self, secret: str, query: dict[str, str], now: float) -> _Reply | None:
        timestamp = query.get("timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) / 1000 - now) > self.signature_tolerance_s:
            return _json(310000, "invalid timestamp")
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        # parse_qs decoded the query once: a sign encoded twice arrives still encoded.
        if not hmac.compare_digest(query.get("sign", ""), expected):
            return _json(310000, "sign not match")
        return None

    def _feishu(
        self, robot: _Robot, query: dict[str, str], raw: bytes, now: float
    ) -> tuple[_Reply, Body | None]:
        bad = _json(9499, "Bad Request", keys=("code", "msg"))
        if len(raw) > self.feishu_body_max:
            return bad, None
        body = _parse(raw)
        if body is None or body.get("msg_type") not in ("text", "post", "interactive"):
            return bad, None
        if body["msg_type"] == "interactive" and not _card_ok(body.get("card")):
            return bad, None
        if robot.secret is not None and not self._feishu_signed(robot.secret, body, now):
            return _json(
                19021,
                "sign match fail or timestamp is not within one hour from current time",
                keys=("code", "msg"),
            ), None
        if robot.keyword and robot.keyword not in "\n".join(_feishu_strings(body)):
            return _json(19024, "Key Words Not Found", keys=("code", "msg")), None
        per_second = _take(robot.recent, self.feishu_per_second, self.feishu_second_s, now)
        if not per_second or not _take(
            robot.sends, self.feishu_per_window, self.rate_window_s, now
        ):
            return _json(11232, "frequency limited psm[lark.oapi.app]", keys=("code", "msg")), None
        ok = json.dumps(
            {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
        )
        return _Reply(200, ok.encode(), 0, "success"), body

    def _feishu_signed(self, secret: str, body: Body, now: float) -> bool:
        timestamp = str(body.get("timestamp", ""))
        if not timestamp.isdigit() or abs(int(timestamp) - now) > self.signature_tolerance_s:
            return False
        key = f"{timestamp}\n{secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        return hmac.compare_digest(str(body.get("sign", "")), expected)


def _take(sends: deque[float], limit: int, window: float, now: float) -> bool:
    """Count a send in a sliding window if there is room; False (and nothing counted) if not."""
    while sends and sends[0] <= now - window:
        sends.popleft()
    if len(sends) >= limit:
        return False
    sends.append(now)
    return True


def _http_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def _action_card_ok(body: Body) -> bool:
    """What DingTalk requires of an actionCard: a title, a markdown text, and either one
    button (`singleTitle` + `singleURL`) or a list of `btns` each with a title and an address."""
    card = body.get("actionCard")
    if not isinstance(card, dict) or not card.get("title") or not card.get("text"):
        return False
    if "singleTitle" in card or "singleURL" in card:
        return bool(card.get("singleTitle")) and _http_url(card.get("singleURL"))
    buttons = card.get("btns")
    return (
        isinstance(buttons, list)
        and bool(buttons)
        and all(
            isinstance(b, dict) and b.get("title") and _http_url(b.get("actionURL"))
            for b in buttons
        )
    )


def _card_ok(card: object) -> bool:
    """A Feishu interactive card: a list of elements, each with a tag; every button of an
    `action` element has a text and an http(s) `url`; `lark_md` and `plain_text` hold text."""
    if not isinstance(card, dict) or not isinstance(card.get("elements"), list):
        return False
    for element in card["elements"]:
        if not isinstance(element, dict) or not isinstance(element.get("tag"), str):
            return False
        if element["tag"] == "action" and not all(
            isinstance(b, dict) and b.get("text") and _http_url(b.get("url"))
            for b in element.get("actions", [])
        ):
            return False
        text = element.get("text")
        if element["tag"] == "div" and not (
            isinstance(text, dict)
            and text.get("tag") in ("lark_md", "plain_text")
            and isinstance(text.get("content"), str)
        ):
            return False
    return True


def _dingtalk_text(body: Body) -> str:
    inner = body.get(str(body.get("msgtype")), {})
    return "\n".join(str(inner.get(k, "")) for k in ("title", "text", "content"))


def _unknown_robot(platform: Platform) -> _Reply:
    if platform == "wecom":
        return _json(
            93000, "invalid webhook url, hint: [fake], more info at https://open.work.weixin.qq.com"
        )
    if platform == "dingtalk":
        return _json(300001, "token is not exist")
    return _json(
        19001, "param invalid: incoming webhook access token invalid", keys=("code", "msg")
    )


def _json(code: int, msg: str, keys: tuple[str, str] = ("errcode", "errmsg")) -> _Reply:
    body = json.dumps({keys[0]: code, keys[1]: msg}, ensure_ascii=False).encode("utf-8")
    return _Reply(200, body, code, msg)


def _parse(raw: bytes) -> Body | None:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout) and closed its socket is part of the game


def _handler_for(fake: FakePlatforms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            reply = fake.handle(self.path, self.rfile.read(length))
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test output is for the tests

    return Handler


@pytest.fixture
def fake_platforms() -> Iterator[FakePlatforms]:
    """The fake platforms on a free port, real time. Make your own for a shrunk clock."""
    with FakePlatforms() as fake:
        yield fake
