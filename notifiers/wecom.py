"""WeCom group robot (企业微信群机器人): a markdown digest, then a short text to @ by mobile.

WeCom markdown cannot @ anyone by mobile number, so when liaisons must be mentioned a `text`
message with `mentioned_mobile_list` follows the digest. If the digest goes through and the
mention does not, the answer's `remainder` is the mention alone, so a retry does not post the
digest twice. WeCom robots have no signature; the key in the URL is the secret.
"""

from __future__ import annotations

from typing import Any

from notifiers._webhook import WebhookNotifier
from notifiers.base import DeliveryAnswer, OutgoingMessage
from notifiers.split import utf8_len

__all__ = ["MENTION_TEXT", "WeComNotifier"]

MENTION_TEXT = "请上述事项涉及单位联络员及时办理并报送进展。"


class WeComNotifier(WebhookNotifier):
    platform = "wecom"
    max_body_bytes = 4096  # markdown content; text content is limited to 2048
    limits = ((18, 60.0),)  # platform: 20 a minute

    def markdown_payload(self, message: OutgoingMessage) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": self._content(message)}}

    def mention_payload(self, message: OutgoingMessage) -> dict[str, Any]:
        text: dict[str, Any] = {"content": self._titled("") + MENTION_TEXT}
        if message.mention_mobiles:
            text["mentioned_mobile_list"] = list(message.mention_mobiles)
        if message.mention_all:
            text["mentioned_list"] = ["@all"]
        return {"msgtype": "text", "text": text}

    def requests_for(self, message: OutgoingMessage) -> int:
        if not message.markdown:
            return 1
        return 2 if _mentions(message) else 1

    def send(self, message: OutgoingMessage) -> DeliveryAnswer:
        if not message.markdown:
            return self._post(self.mention_payload(message))
        answer = self._post(self.markdown_payload(message))
        if not answer.ok or not _mentions(message):
            return answer
        mention = self._post(self.mention_payload(message))
        if mention.ok:
            return mention
        return DeliveryAnswer(
            ok=False,
            kind=mention.kind,
            code=mention.code,
            detail=f"摘要已送达，@提醒未送达: {mention.detail}",
            http_status=mention.http_status,
            retry_after_s=mention.retry_after_s,
            remainder=message.mentions_only(),
        )

    def _content(self, message: OutgoingMessage) -> str:
        return f"### {self._titled(message.title)}\n{message.markdown}"

    def _measure(self, message: OutgoingMessage) -> int:
        return utf8_len(self._content(message))


def _mentions(message: OutgoingMessage) -> bool:
    """Whether WeCom can @ anyone for this message (by mobile, or everyone)."""
    return bool(message.mention_mobiles or message.mention_all)
