"""The answer to a group message, sent back into the same conversation at once.

DingTalk: through the message's `sessionWebhook` while it has not expired (a URL on
oapi.dingtalk.com that carries its own session credential; any other host only when the admin
allow-listed it, like every webhook: `notifiers.guard`). Feishu: through the channel's own
webhook robot (the custom bot of that group). Answers are not held for working hours (the
sender is waiting) but go through the same persistent rate limiter as every robot message
(`notifiers.ratelimit`, shared by every process of the installation). A failed answer is only
logged: the message and its outcome are recorded already, and the sender can ask again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import structlog

from duban.app.delivery_adapters import delivery_settings, limiter_for_store
from duban.settings.config import Config
from notifiers.base import OutgoingMessage
from notifiers.dingtalk import DingTalkNotifier
from notifiers.factory import robots_for
from notifiers.guard import PLATFORM_HOSTS, fingerprint

__all__ = ["MAX_WAIT_S", "Reply", "send_reply", "session_webhook_allowed"]

log = structlog.get_logger("duban.inbound")

MAX_WAIT_S = 5.0  # longer than this behind the rate limit, an answer is dropped (logged)
_SESSION_PATHS = frozenset({"/robot/sendBySession", "/robot/send"})
_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class Reply:
    """Where one answer goes: a DingTalk session webhook, or a Feishu channel's robot."""

    platform: str
    channel: str
    conversation_id: str
    text: str
    session_webhook: str | None = None  # a credential: never logged, never stored


def session_webhook_allowed(url: str, allowed_hosts: Collection[str]) -> bool:
    """A DingTalk `sessionWebhook` we may post to: https on the platform's host and robot
    path, or an allow-listed host (a local fake, an egress proxy); no user info in it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in _PORTS or not host or parts.username or parts.password:
        return False
    if parts.scheme == "https" and host in PLATFORM_HOSTS["dingtalk"] and port in (None, 443):
        return parts.path in _SESSION_PATHS
    wanted = port or _PORTS[parts.scheme]
    for entry in allowed_hosts:
        name, _, entry_port = entry.strip().lower().rpartition(":")
        if not name or not entry_port.isdigit():
            name, entry_port = entry.strip().lower(), ""
        default = wanted == _PORTS[parts.scheme]
        if name.strip("[]") == host and (int(entry_port) == wanted if entry_port else default):
            return True
    return False


def send_reply(config: Config, reply: Reply, clock: Callable[[], float] = time.time) -> bool:
    """Send `reply`; True if the platform accepted it. Never raises."""
    try:
        if reply.platform == "dingtalk":
            return _dingtalk(config, reply, clock)
        return _feishu(config, reply, clock)
    except Exception:
        log.warning(
            "inbound_answer_failed", platform=reply.platform, channel=reply.channel, exc_info=True
        )
        return False


def _acquire(
    config: Config, robot: str, limits: tuple[tuple[int, float], ...], clock: Callable[[], float]
) -> bool:
    """Room on the robot within `MAX_WAIT_S`, from the shared limiter."""
    with limiter_for_store(config.store) as limiter:
        deadline = clock() + MAX_WAIT_S
        while True:
            wait = limiter.acquire(robot, limits, clock())
            if wait <= 0:
                return True
            if clock() + wait > deadline:
                return False
            time.sleep(wait)


def _dingtalk(config: Config, reply: Reply, clock: Callable[[], float]) -> bool:
    url = reply.session_webhook
    if url is None:
        return False
    robot = fingerprint(f"dingtalk-session:{reply.conversation_id}")
    if not _acquire(config, robot, DingTalkNotifier.limits, clock):
        log.warning("inbound_answer_throttled", platform="dingtalk", channel=reply.channel)
        return False
    body = {"msgtype": "text", "text": {"content": reply.text}}
    answer = httpx.post(url, json=body, timeout=config.delivery.timeout_s)
    try:
        ok = answer.status_code == 200 and int(answer.json().get("errcode", -1)) == 0
    except (ValueError, TypeError, AttributeError):
        ok = False
    if not ok:
        log.warning(
            "inbound_answer_refused",
            platform="dingtalk",
            channel=reply.channel,
            http_status=answer.status_code,
        )
    return ok


def _feishu(config: Config, reply: Reply, clock: Callable[[], float]) -> bool:
    spec = delivery_settings(config).channel(reply.channel)
    if spec is None or not spec.webhooks:
        return False
    allowed = tuple(config.allowed_webhook_hosts)
    message = OutgoingMessage(title="督办", markdown=reply.text)
    with httpx.Client(timeout=config.delivery.timeout_s) as client:
        for robot in robots_for(spec, client=client, clock=clock, allowed_hosts=allowed):
            if robot.limits and not _acquire(config, robot.robot, robot.limits, clock):
                continue
            answer = robot.send(message)
            if not answer.ok:
                log.warning(
                    "inbound_answer_refused",
                    platform="feishu",
                    channel=reply.channel,
                    kind=answer.kind,
                    code=answer.code,
                )
            return answer.ok
    log.warning("inbound_answer_throttled", platform="feishu", channel=reply.channel)
    return False
