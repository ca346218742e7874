"""DingTalk custom robot (钉钉自定义机器人): one markdown message with the mentions in it.

DingTalk notifies the mobiles in `at.atMobiles` only if each `@138…` token also appears in the
markdown text, so both are sent. A one-task message with a link to the task's page and nobody
to @ goes as an `actionCard` with one 「查看任务」 button (an ActionCard cannot @ anyone: with
mentions it stays markdown, its inline link kept). With a secret, every request is signed:
the signature goes in the query string, URL-encoded exactly once (by httpx), next to the
millisecond timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx

from notifiers._webhook import WebhookNotifier, encode_json
from notifiers.base import DeliveryAnswer, OutgoingMessage
from notifiers.links import LINK_LABEL, without_link_line

__all__ = ["DingTalkNotifier", "sign_dingtalk"]


def sign_dingtalk(timestamp_ms: int | str, secret: str) -> str:
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
        if message.link and not (message.mention_mobiles or message.mention_all):
            return self._action_card(title, message.markdown, message.link)
        text = f"### {title}\n\n{message.markdown}".rstrip()
        if message.mention_mobiles:
            text += "\n\n" + " ".join(f"@{mobile}" for mobile in message.mention_mobiles)
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text},
            "at": {"atMobiles": list(message.mention_mobiles), "isAtAll": message.mention_all},
        }

    def _action_card(self, title: str, markdown: str, url: str) -> dict[str, Any]:
        """One task, one button to its page; the text without the link line it replaces."""
        text = f"### {title}\n\n{without_link_line(markdown, url)}".rstrip()
        card = {
            "title": title,
            "text": text,
            "btnOrientation": "0",
            "singleTitle": LINK_LABEL,
            "singleURL": url,
        }
        return {"msgtype": "actionCard", "actionCard": card}

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
