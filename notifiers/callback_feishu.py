"""Feishu / Lark app-bot event callbacks: URL verification and im.message.receive_v1.

Without an Encrypt Key the body is plain JSON and the Verification Token in it (``token`` of a
URL verification, ``header.token`` of a schema 2.0 event) is the only check ("feishu-token").
With one, every body is ``{"encrypt": BASE64}`` (AES-256-CBC, key SHA-256(Encrypt Key), the IV
the first 16 bytes, PKCS#7) and an event carries ``X-Lark-Request-Timestamp`` (seconds),
``-Nonce`` and ``-Signature`` = hex(SHA-256(timestamp + nonce + Encrypt Key + raw body)):
checked first when present (401 wrong, 403 over an hour off), then the body decrypted (403 on
failure), then the token ("feishu-signature+aes"). A URL verification is answered without the
signature headers too (Feishu's SDK does not require them for it): decrypting it needs the
Encrypt Key and its token must match. Authentic requests with nothing for us (another event
type, a schema 1.0 event, a message that is not text) raise `CallbackIgnored` (answer 200, so
Feishu does not retry them).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

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

__all__ = ["FeishuChallenge", "check_feishu", "feishu_decrypt", "feishu_signature"]

_MESSAGE_EVENT = "im.message.receive_v1"
_BLOCK = 16


@dataclass(frozen=True)
class FeishuChallenge:
    """A URL verification whose token matched: answer ``{"challenge": challenge}``."""

    challenge: str


def feishu_signature(timestamp: str, nonce: str, encrypt_key: str, raw_body: bytes) -> str:
    """The ``X-Lark-Signature`` of a request: hex SHA-256 of timestamp+nonce+key+raw body."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + raw_body).hexdigest()


def feishu_decrypt(encrypt_key: str, encrypted_b64: str) -> bytes:
    """The plaintext of an ``encrypt`` field; `CallbackRefused(403)` if it cannot be one."""
    try:
        data = base64.b64decode(encrypted_b64, validate=True)
    except ValueError:
        raise CallbackRefused(403, "feishu-decrypt-base64") from None
    if len(data) < 2 * _BLOCK or len(data) % _BLOCK:
        raise CallbackRefused(403, "feishu-decrypt-length")
    key = hashlib.sha256(encrypt_key.encode("utf-8")).digest()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(data[:_BLOCK])).decryptor()
    padded = decryptor.update(data[_BLOCK:]) + decryptor.finalize()
    unpadder = padding.PKCS7(8 * _BLOCK).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CallbackRefused(403, "feishu-decrypt-padding") from None


def check_feishu(
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    verification_token: str,
    encrypt_key: str | None,
    now_ms: int,
) -> InboundText | FeishuChallenge:
    """A checked URL verification or text message event, or `CallbackRefused` (see above)."""
    check_size(raw_body)
    if not encrypt_key:
        body = json_object(raw_body)
        if "encrypt" in body:
            raise CallbackRefused(403, "feishu-encrypted-without-key")
        return _checked(body, verification_token, "feishu-token")
    signed = _check_signature(lowered(headers), raw_body, encrypt_key, now_ms)
    encrypted = json_object(raw_body).get("encrypt")
    if not isinstance(encrypted, str):
        raise CallbackRefused(403, "feishu-not-encrypted")
    plain = feishu_decrypt(encrypt_key, encrypted)
    body = json_object(plain, status=403, reason="feishu-decrypt-not-json")
    if not signed and body.get("type") != "url_verification":
        raise CallbackRefused(401, "feishu-signature-missing")
    return _checked(body, verification_token, "feishu-signature+aes")


def _check_signature(
    given: Mapping[str, str], raw_body: bytes, encrypt_key: str, now_ms: int
) -> bool:
    """Checks the signature headers if any is present; False when none is."""
    stamp = given.get("x-lark-request-timestamp")
    nonce = given.get("x-lark-request-nonce")
    signature = given.get("x-lark-signature")
    if stamp is None and nonce is None and signature is None:
        return False
    if not stamp or nonce is None or not signature:
        raise CallbackRefused(401, "feishu-signature-missing")
    seconds = timestamp_int(stamp, "feishu-timestamp-malformed")
    expected = feishu_signature(stamp, nonce, encrypt_key, raw_body)
    if not same_secret(signature.strip().lower(), expected):
        raise CallbackRefused(401, "feishu-signature-wrong")
    if abs(now_ms - seconds * 1000) > STALE_AFTER_MS:
        raise CallbackRefused(403, "feishu-timestamp-stale")
    return True


def _checked(body: dict[str, Any], token: str, check: str) -> InboundText | FeishuChallenge:
    if body.get("type") == "url_verification":
        _check_token(body.get("token"), token)
        challenge = body.get("challenge")
        if not isinstance(challenge, str):
            raise CallbackRefused(400, "feishu-challenge-missing")
        return FeishuChallenge(challenge)
    header = body.get("header")
    if body.get("schema") != "2.0" or not isinstance(header, dict):
        _check_token(body.get("token"), token)
        raise CallbackIgnored("feishu-schema-1-ignored")
    _check_token(header.get("token"), token)
    if header.get("event_type") != _MESSAGE_EVENT:
        raise CallbackIgnored("feishu-event-type-ignored")
    return _message(header, body.get("event"), check)


def _check_token(given: object, token: str) -> None:
    if not isinstance(given, str) or not given:
        raise CallbackRefused(401, "feishu-token-missing")
    if not same_secret(given, token):
        raise CallbackRefused(401, "feishu-token-wrong")


def _message(header: dict[str, Any], event: object, check: str) -> InboundText:
    if not isinstance(event, dict) or not isinstance(event.get("message"), dict):
        raise CallbackRefused(400, "feishu-message-missing")
    message: dict[str, Any] = event["message"]
    if message.get("message_type") != "text":
        raise CallbackIgnored("feishu-not-text")
    sender = event.get("sender")
    sender_id = sender.get("sender_id") if isinstance(sender, dict) else None
    ids = sender_id if isinstance(sender_id, dict) else {}
    return InboundText(
        platform="feishu",
        message_id=required(header, "event_id", str, "feishu-event-id-missing"),
        conversation_id=required(message, "chat_id", str, "feishu-chat-missing"),
        conversation_title="",
        sender_ids=tuple(
            value
            for value in (ids.get("user_id"), ids.get("open_id"))
            if isinstance(value, str) and value
        ),
        sender_name="",
        text=_content_text(message.get("content")),
        sent_at_ms=millis(header.get("create_time"), "feishu-create-time-missing"),
        reply_url=None,
        reply_expires_ms=None,
        check=check,
        is_group=message.get("chat_type", "group") == "group",
    )


def _content_text(content: object) -> str:
    """``event.message.content`` is a JSON text itself: ``{"text": "@_user_1 …"}``."""
    if not isinstance(content, str):
        raise CallbackRefused(400, "feishu-content-missing")
    try:
        value = json.loads(content)
    except ValueError:
        raise CallbackRefused(400, "feishu-content-not-json") from None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise CallbackRefused(400, "feishu-content-not-text")
    text: str = value["text"]
    return text
