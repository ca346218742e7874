"""Feishu / Lark custom bot (飞书自定义机器人): a `post` rich-text message, or a card.

Feishu's post format is not Markdown: each line of the digest becomes a paragraph of `text`
elements (headings and `**…**` become bold, `[text](url)` a link). Custom bots cannot @ by
mobile number: people with a known Feishu user id get an `at` tag, the others their name as
plain text. A one-task message with a link to the task's page and nobody to @ by tag goes as an
`interactive` card: a header, the text as `lark_md` (bold and links kept, headings as bold
lines) and one 「查看任务」 button to the page. The signature differs from DingTalk's: the
string `f"{ts}\\n{secret}"` is the HMAC key, the message is empty, and timestamp and sign travel
in the JSON body, not URL-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

from notifiers._webhook import WebhookNotifier, encode_json
from notifiers.base import DeliveryAnswer, OutgoingMessage
from notifiers.links import LINK_LABEL, without_link_line

__all__ = ["FeishuNotifier", "card", "lark_md", "post_paragraphs", "sign_feishu"]

Element = dict[str, Any]
_HEADING = re.compile(r"^#{1,6}\s+")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_QUOTE = re.compile(r"^>\s?")
_INLINE = re.compile(r"\*\*(?P<bold>.+?)\*\*|\[(?P<label>[^\]]+)\]\((?P<href>[^)\s]+)\)")


def sign_feishu(timestamp_s: int, secret: str) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}", msg=b"")), not URL-encoded."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def post_paragraphs(markdown: str) -> list[list[Element]]:
    """The digest's Markdown as Feishu post paragraphs, one per line."""
    return [_paragraph(line.rstrip()) for line in markdown.split("\n")]


def _paragraph(line: str) -> list[Element]:
    if _HEADING.match(line):
        return [{"tag": "text", "text": _HEADING.sub("", line), "style": ["bold"]}]
    line = _QUOTE.sub("", _BULLET.sub("• ", line))
    elements: list[Element] = []
    position = 0
    for match in _INLINE.finditer(line):
        if match.start() > position:
            elements.append({"tag": "text", "text": line[position : match.start()]})
        if match["bold"] is not None:
            elements.append({"tag": "text", "text": match["bold"], "style": ["bold"]})
        elif match["href"].lower().startswith(("https://", "http://")):
            elements.append({"tag": "a", "text": match["label"], "href": match["href"]})
        else:  # javascript:, data:, a relative path …: shown as typed, never a link
            elements.append({"tag": "text", "text": match[0]})
        position = match.end()
    if position < len(line) or not elements:
        elements.append({"tag": "text", "text": line[position:]})
    return elements


def lark_md(markdown: str) -> str:
    """The digest's Markdown as card `lark_md`: headings become bold lines, quotes plain lines
    (lark_md has neither); bold, links and the rest pass as they are."""
    return "\n".join(_lark_line(line) for line in markdown.split("\n"))


def _lark_line(line: str) -> str:
    if _HEADING.match(line):
        return f"**{_HEADING.sub('', line).strip()}**"
    return _QUOTE.sub("", line)


def card(title: str, markdown: str, url: str, names: tuple[str, ...] = ()) -> dict[str, Any]:
    """An interactive card about one task: header, text and one button to the task's page."""
    text = lark_md(without_link_line(markdown, url))
    if names:
        text += "\n" + " ".join(f"@{name}" for name in names)
    button = {
        "tag": "button",
        "text": {"tag": "plain_text", "content": LINK_LABEL},
        "type": "primary",
        "url": url,
    }
    return {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
        "elements": [
            {"tag": "div", "text": {"tag": "lark_md", "content": text}},
            {"tag": "action", "actions": [button]},
        ],
    }


def _mention_paragraph(message: OutgoingMessage) -> list[Element]:
    elements: list[Element] = [
        {"tag": "at", "user_id": person.user_id, "user_name": person.name}
        for person in message.feishu_mentions
    ]
    tagged = {person.name for person in message.feishu_mentions}
    plain = [name for name in message.mention_names if name not in tagged]
    if plain:
        elements.append({"tag": "text", "text": " ".join(f"@{name}" for name in plain)})
    if message.mention_all:
        elements.append({"tag": "at", "user_id": "all", "user_name": "所有人"})
    return elements


class FeishuNotifier(WebhookNotifier):
    platform = "feishu"
    max_body_bytes = 20000  # platform: "20 KB"; 20000 is under it whichever KB is meant
    limits = ((90, 60.0), (4, 1.0))  # platform: 100 a minute and 5 a second

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        body = self._card(message) if _as_card(message) else self._post_body(message)
        if self._secret is not None:
            timestamp = int(self._clock())
            body["timestamp"] = str(timestamp)
            body["sign"] = sign_feishu(timestamp, self._secret)
        return body

    def send(self, message: OutgoingMessage) -> DeliveryAnswer:
        return self._post(self.payload(message))

    def _card(self, message: OutgoingMessage) -> dict[str, Any]:
        assert message.link is not None  # _as_card
        found = card(
            self._titled(message.title), message.markdown, message.link, message.mention_names
        )
        return {"msg_type": "interactive", "card": found}

    def _post_body(self, message: OutgoingMessage) -> dict[str, Any]:
        paragraphs = post_paragraphs(message.markdown) if message.markdown else []
        mentions = _mention_paragraph(message)
        if mentions:
            paragraphs.append(mentions)
        post = {"title": self._titled(message.title), "content": paragraphs}
        return {"msg_type": "post", "content": {"post": {"zh_cn": post}}}

    def _measure(self, message: OutgoingMessage) -> int:
        return len(encode_json(self.payload(message)))


def _as_card(message: OutgoingMessage) -> bool:
    """A card has one button and no `at` tags: only a one-task message nobody is tagged in."""
    return bool(message.link and message.markdown) and not (
        message.feishu_mentions or message.mention_all
    )
