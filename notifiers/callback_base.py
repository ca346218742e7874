"""What an inbound callback check gives back: the message (`InboundText`) or a refusal.

`CallbackRefused.status` is the HTTP status to answer with; `reason` is a short English log key
(never the body, never a secret). `CallbackIgnored` is a refusal with status 200: the request
is authentic and well-formed but carries nothing for us (a picture, another event type), so the
route answers 200 and the platform does not retry it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "MAX_BODY_BYTES",
    "STALE_AFTER_MS",
    "CallbackIgnored",
    "CallbackRefused",
    "InboundText",
]

STALE_AFTER_MS = 3_600_000  # both platforms: a signed timestamp more than an hour off is stale
MAX_BODY_BYTES = 256 * 1024  # a chat message is a few kilobytes; anything this big is not one


class CallbackRefused(Exception):
    """The request fails a check: answer `status` (400 malformed, 401 bad or missing signature
    or token, 403 stale timestamp or decryption failure, 413 too large) and log `reason`."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class CallbackIgnored(CallbackRefused):
    """Authentic and well-formed, but not a text message for us: answer 200, record nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(200, reason)


@dataclass(frozen=True)
class InboundText:
    """One text message written to the robot, after its platform's check passed."""

    platform: Literal["dingtalk", "feishu"]
    message_id: str  # DingTalk msgId / Feishu header.event_id: the same on a platform retry
    conversation_id: str  # DingTalk conversationId / Feishu event.message.chat_id
    conversation_title: str  # DingTalk conversationTitle / "" on Feishu
    sender_ids: tuple[str, ...]  # DingTalk (senderStaffId,); Feishu (user_id, open_id); no ""
    sender_name: str  # DingTalk senderNick / "" on Feishu
    text: str  # as written, mentions included (Feishu: its @_user_N placeholders)
    sent_at_ms: int  # DingTalk createAt / Feishu header.create_time
    reply_url: str | None  # DingTalk sessionWebhook; None on Feishu
    reply_expires_ms: int | None  # DingTalk sessionWebhookExpiredTime
    check: str  # which check passed: dingtalk-sign, feishu-signature+aes, feishu-token
    is_group: bool = True  # False for a one-to-one chat with the robot


def lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two texts (signatures, tokens)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_size(raw_body: bytes) -> None:
    if len(raw_body) > MAX_BODY_BYTES:
        raise CallbackRefused(413, "body-too-large")


def json_object(raw: bytes, *, status: int = 400, reason: str = "body-not-json") -> dict[str, Any]:
    """`raw` as a JSON object, else `CallbackRefused(status, reason)`."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CallbackRefused(status, reason) from None
    if not isinstance(value, dict):
        raise CallbackRefused(status, reason)
    return value


def required(obj: Mapping[str, Any], name: str, kind: type, reason: str) -> Any:
    """`obj[name]` if it is a `kind` (and not empty, for text), else 400 `reason`."""
    value = obj.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) or value == "":
        raise CallbackRefused(400, reason)
    return value


def timestamp_int(text: str | None, reason: str) -> int:
    """A timestamp header as an integer; a missing or malformed one fails the check (401)."""
    if text is None or not text.strip().isascii() or not text.strip().isdigit():
        raise CallbackRefused(401, reason)
    return int(text.strip())


def millis(value: object, reason: str) -> int:
    """A millisecond time in a body, written as a number or as digits (Feishu), else 400."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise CallbackRefused(400, reason)
