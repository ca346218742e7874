"""DingTalk custom robot (钉钉自定义机器人): one markdown message with the mentions in it.

DingTalk notifies the mobiles in `at.atMobiles` only if each `@138…` token also appears in the
markdown text, so both are sent. With a secret, every request is signed: the signature goes in
the query string, URL-encoded exactly once (by httpx), next to the millisecond timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx

from notifiers._webhook import WebhookNotifier, encode_json
from notifiers.base import DeliveryAnswer, OutgoingMessage

__all__ = ["DingTalkNotifier", "sign_dingtalk"]


def sign_dingtalk(timestamp_ms: int, secret: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}")), not URL-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkNotifier(WebhookNotifier):
    platform = "dingtalk"
    max_body_bytes = 20000  # the whole request body
    limits = ((18, 60.0),)  # platform: 20 a minute, then a 10-minute block

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        title = self._titled(message.title) or "督办提醒"
        text = f"### {title}\n\n{message.markdown}".rstrip()
        if message.mention_mobiles:
            text += "\n\n" + " ".join(f"@{mobile}" for mobile in message.mention_mobiles)
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text},
            "at": {"atMobiles": list(message.mention_mobiles), "isAtAll": message.mention_all},
        }

    def signed_url(self) -> httpx.URL:
        """The webhook with `timestamp` and `sign` appended when the robot has a secret."""
        url = httpx.URL(self._webhook)
        if self._secret is None:
            return url
        timestamp = int(self._clock() * 1000)
        sign = sign_dingtalk(timestamp, self._secret)
        # copy_merge_params keeps access_token; `params=` on the request would replace it.
        return url.copy_merge_params({"timestamp": str(timestamp), "sign": sign})

    def send(self, message: OutgoingMessage) -> DeliveryAnswer:
        return self._post(self.payload(message), self.signed_url())

    def _measure(self, message: OutgoingMessage) -> int:
        return len(encode_json(self.payload(message)))
