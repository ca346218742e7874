"""DingTalk enterprise robot (企业内部机器人) callbacks: someone @-mentioned the robot in a group.

DingTalk POSTs the message as JSON with the headers ``timestamp`` (ms) and ``sign`` =
base64(HMAC-SHA256(key=appSecret, msg=f"{timestamp}\\n{appSecret}")), the construction of the
outbound custom-robot signature. The signature covers the timestamp only, not the body: it
proves the sender knows the appSecret and limits a replay to an hour; the message id (msgId)
makes a replay within that hour a no-op downstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifiers.callback_base import (
    STALE_AFTER_MS,
    CallbackIgnored,
    CallbackRefused,
    InboundText,
    check_size,
    json_object,
    lowered,
    millis,
    required,
    same_secret,
    timestamp_int,
)
from notifiers.dingtalk import sign_dingtalk

__all__ = ["check_dingtalk", "dingtalk_sign"]


def dingtalk_sign(timestamp_ms: str, app_secret: str) -> str:
    """The ``sign`` header DingTalk sends with ``timestamp`` (as written in the header): the
    outbound robot's construction (`notifiers.dingtalk.sign_dingtalk`) with the appSecret."""
    return sign_dingtalk(timestamp_ms, app_secret)


def check_dingtalk(
    headers: Mapping[str, str], raw_body: bytes, *, app_secret: str, now_ms: int
) -> InboundText:
    """The text message of a signed callback, or `CallbackRefused`: 401 for a missing or wrong
    signature, 403 for a timestamp more than an hour from `now_ms`, 400 for a body that is not
    a DingTalk message, `CallbackIgnored` (200) for a message that is not text."""
    check_size(raw_body)
    given = lowered(headers)
    stamp = given.get("timestamp")
    sign = given.get("sign")
    if not stamp or not sign:
        raise CallbackRefused(401, "dingtalk-signature-missing")
    when = timestamp_int(stamp, "dingtalk-timestamp-malformed")
    if not same_secret(sign.strip(), dingtalk_sign(stamp.strip(), app_secret)):
        raise CallbackRefused(401, "dingtalk-signature-wrong")
    if abs(now_ms - when) > STALE_AFTER_MS:
        raise CallbackRefused(403, "dingtalk-timestamp-stale")
    return _message(json_object(raw_body))


def _message(body: dict[str, Any]) -> InboundText:
    if body.get("msgtype") != "text":
        if isinstance(body.get("msgtype"), str) and isinstance(body.get("msgId"), str):
            raise CallbackIgnored("dingtalk-not-text")
        raise CallbackRefused(400, "dingtalk-msgtype-missing")
    text = body.get("text")
    if not isinstance(text, dict) or not isinstance(text.get("content"), str):
        raise CallbackRefused(400, "dingtalk-text-missing")
    staff = body.get("senderStaffId")
    reply_url = body.get("sessionWebhook")
    expires = body.get("sessionWebhookExpiredTime")
    return InboundText(
        platform="dingtalk",
        message_id=required(body, "msgId", str, "dingtalk-msgid-missing"),
        conversation_id=required(body, "conversationId", str, "dingtalk-conversation-missing"),
        conversation_title=_text(body.get("conversationTitle")),
        sender_ids=(staff,) if isinstance(staff, str) and staff else (),
        sender_name=_text(body.get("senderNick")),
        text=text["content"],
        sent_at_ms=millis(body.get("createAt"), "dingtalk-createat-missing"),
        reply_url=reply_url if isinstance(reply_url, str) and reply_url else None,
        reply_expires_ms=None if expires is None else millis(expires, "dingtalk-expiry-malformed"),
        check="dingtalk-sign",
        is_group=body.get("conversationType", "2") == "2",
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
