"""The platforms' side of an inbound callback: DingTalk and Feishu posting a message to us.

Each client builds the body the platform sends (fields, shapes and the way the text carries the
@: DingTalk a leading space, Feishu an ``@_user_1`` placeholder), signs it with its own
implementation of the published algorithm (stdlib hmac/hashlib; Feishu's AES with pycryptodome,
not the `cryptography` package the server uses) and POSTs it over real HTTP with httpx::

    dingtalk = DingTalkCallbacks(f"{base}/callbacks/dingtalk/bb", app_secret="SEC")
    answer = dingtalk.post(dingtalk.body("2024-03 进展 60% 细则已起草", sender_staff_id="u-1"))

Without explicit `timestamp`/`sign`/`signature`, requests are signed correctly at `clock()`;
pass them to send a wrong or stale one. `request(...)` gives the headers and raw body without
sending, for pure tests of the checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad

__all__ = [
    "DingTalkCallbacks",
    "FeishuCallbacks",
    "dingtalk_signature",
    "feishu_encrypt",
    "feishu_request_signature",
]

Body = dict[str, Any]
Clock = Callable[[], float]


def dingtalk_signature(timestamp_ms: str, app_secret: str) -> str:
    """base64(HMAC-SHA256(key=appSecret, msg=timestamp + "\\n" + appSecret))."""
    message = f"{timestamp_ms}\n{app_secret}".encode()
    return base64.b64encode(
        hmac.new(app_secret.encode(), message, hashlib.sha256).digest()
    ).decode()


def feishu_request_signature(timestamp: str, nonce: str, encrypt_key: str, raw: bytes) -> str:
    """hex(SHA-256(timestamp + nonce + encrypt_key + raw body))."""
    digest = hashlib.sha256()
    digest.update(timestamp.encode())
    digest.update(nonce.encode())
    digest.update(encrypt_key.encode())
    digest.update(raw)
    return digest.hexdigest()


def feishu_encrypt(encrypt_key: str, plain: bytes, iv: bytes | None = None) -> str:
    """base64(IV + AES-256-CBC(key=SHA-256(encrypt_key), PKCS#7(plain))), as Feishu sends."""
    iv = iv if iv is not None else secrets.token_bytes(16)
    cipher = AES.new(hashlib.sha256(encrypt_key.encode()).digest(), AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(pad(plain, AES.block_size))).decode()


def _json(body: Body) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class DingTalkCallbacks:
    """DingTalk's enterprise robot posting @-messages of a group to our callback URL."""

    def __init__(self, url: str, app_secret: str, *, clock: Clock = time.time) -> None:
        self.url = url
        self.app_secret = app_secret
        self.clock = clock

    def body(
        self,
        text: str,
        *,
        sender_staff_id: str,
        sender_nick: str = "",
        conversation_id: str = "cid-1",
        conversation_title: str = "",
        msg_id: str | None = None,
        session_webhook: str | None = None,
        expires_ms: int | None = None,
        create_at_ms: int | None = None,
    ) -> Body:
        now_ms = int(self.clock() * 1000)
        body: Body = {
            "conversationId": conversation_id,
            "atUsers": [{"dingtalkId": "$:LWCP_v1:$robot"}],
            "chatbotCorpId": "ding-corp",
            "chatbotUserId": "$:LWCP_v1:$robot",
            "msgId": msg_id or "msg" + uuid.uuid4().hex,
            "senderNick": sender_nick,
            "isAdmin": False,
            "senderStaffId": sender_staff_id,
            "sessionWebhookExpiredTime": expires_ms or now_ms + 90 * 60_000,
            "createAt": create_at_ms if create_at_ms is not None else now_ms,
            "senderCorpId": "ding-corp",
            "conversationType": "2",
            "senderId": "$:LWCP_v1:$" + hashlib.sha256(sender_staff_id.encode()).hexdigest()[:16],
            "conversationTitle": conversation_title,
            "isInAtList": True,
            "text": {"content": " " + text},
            "robotCode": "ding-robot",
            "msgtype": "text",
        }
        if session_webhook is None:
            del body["sessionWebhookExpiredTime"]
        else:
            body["sessionWebhook"] = session_webhook
        return body

    def request(
        self, body: Body, *, timestamp_ms: int | str | None = None, sign: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        stamp = str(timestamp_ms if timestamp_ms is not None else int(self.clock() * 1000))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "timestamp": stamp,
            "sign": sign if sign is not None else dingtalk_signature(stamp, self.app_secret),
        }
        return headers, _json(body)

    def post(
        self, body: Body, *, timestamp_ms: int | str | None = None, sign: str | None = None
    ) -> httpx.Response:
        headers, raw = self.request(body, timestamp_ms=timestamp_ms, sign=sign)
        return httpx.post(self.url, content=raw, headers=headers, timeout=10.0)


class FeishuCallbacks:
    """A Feishu app bot's event subscription posting to our request URL."""

    def __init__(
        self,
        url: str,
        verification_token: str,
        encrypt_key: str | None,
        *,
        clock: Clock = time.time,
    ) -> None:
        self.url = url
        self.verification_token = verification_token
        self.encrypt_key = encrypt_key
        self.clock = clock

    def message_event(
        self,
        text: str,
        *,
        user_id: str = "",
        open_id: str = "",
        chat_id: str = "oc_1",
        event_id: str | None = None,
    ) -> Body:
        now_ms = str(int(self.clock() * 1000))
        return {
            "schema": "2.0",
            "header": {
                "event_id": event_id or uuid.uuid4().hex,
                "token": self.verification_token,
                "create_time": now_ms,
                "event_type": "im.message.receive_v1",
                "tenant_key": "tenant-1",
                "app_id": "cli_duban",
            },
            "event": {
                "sender": {
                    "sender_id": {
                        "union_id": "on_" + user_id,
                        "user_id": user_id,
                        "open_id": open_id,
                    },
                    "sender_type": "user",
                    "tenant_key": "tenant-1",
                },
                "message": {
                    "message_id": "om_" + uuid.uuid4().hex,
                    "root_id": "",
                    "parent_id": "",
                    "create_time": now_ms,
                    "chat_id": chat_id,
                    "chat_type": "group",
                    "message_type": "text",
                    "content": json.dumps({"text": "@_user_1 " + text}, ensure_ascii=False),
                    "mentions": [
                        {
                            "key": "@_user_1",
                            "id": {"union_id": "on_bot", "user_id": "", "open_id": "ou_bot"},
                            "name": "督办",
                            "tenant_key": "tenant-1",
                        }
                    ],
                },
            },
        }

    def url_verification(self, challenge: str = "ajls384kdjx98XX") -> Body:
        return {
            "challenge": challenge,
            "token": self.verification_token,
            "type": "url_verification",
        }

    def request(
        self,
        event: Body,
        *,
        timestamp: int | str | None = None,
        nonce: str | None = None,
        signature: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of the request: encrypted when there is an Encrypt Key, and signed
        then (Feishu signs with the Encrypt Key only). `raw` replaces the body as sent."""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if raw is None:
            raw = _json(event)
            if self.encrypt_key:
                raw = _json({"encrypt": feishu_encrypt(self.encrypt_key, raw)})
        if self.encrypt_key:
            stamp = str(timestamp if timestamp is not None else int(self.clock()))
            once = nonce if nonce is not None else secrets.token_hex(8)
            headers["X-Lark-Request-Timestamp"] = stamp
            headers["X-Lark-Request-Nonce"] = once
            headers["X-Lark-Signature"] = (
                signature
                if signature is not None
                else feishu_request_signature(stamp, once, self.encrypt_key, raw)
            )
        return headers, raw

    def post(
        self,
        event: Body,
        *,
        timestamp: int | str | None = None,
        nonce: str | None = None,
        signature: str | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:
        headers, body = self.request(
            event, timestamp=timestamp, nonce=nonce, signature=signature, raw=raw
        )
        return httpx.post(self.url, content=body, headers=headers, timeout=10.0)
