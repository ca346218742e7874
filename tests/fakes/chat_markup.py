"""What a group chat would make of a message: a small recogniser of the markup the three
robots' clients render, written for the tests and independent of the project's escaper.

`markup(text)` lists every link, mention and formatting token it finds in WeCom / DingTalk
Markdown (the Feishu post converter reads the same Markdown), as `(kind, matched text)`.
`received(accepted)` reads a message as the fake platform accepted it (`tests.fakes.platforms`)
and returns what the chat shows: its text, the links (Feishu `a` elements and Markdown links),
and who is mentioned (the platform's own mention fields, Feishu `at` elements, `<@…>` tags).

It errs on the side of seeing markup: a token it reports may be one no client renders, never
the other way round for the constructs listed in `_PATTERNS`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.platforms import Accepted

__all__ = ["INVISIBLE", "Received", "kinds", "markup", "received"]

INVISIBLE = frozenset(
    [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\ufeff"]
)
"""Zero-width and bidi control characters: hidden text, or a line that reads backwards."""

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("link", re.compile(r"!?\[[^\]\n]*\]\s*\([^)\n]*\)")),
    ("link", re.compile(r"<(?:https?|ftp|mailto|javascript|data):[^>\n]*>", re.I)),
    ("link", re.compile(r"(?:https?|ftp)://", re.I)),
    ("link", re.compile(r"\[[^\]\n]*\]\s*\[[^\]\n]*\]")),  # reference-style
    ("mention", re.compile(r"<@[^>\n]*>")),  # WeCom markdown
    ("mention", re.compile(r"<at\b[^>\n]*>", re.I)),  # Feishu text / lark_md
    ("mention", re.compile(r"@(?:all|everyone|所有人|here)", re.I)),
    ("mention", re.compile(r"@\S+")),  # DingTalk @mobile, plain @name
    ("html", re.compile(r"</?[A-Za-z][^>\n]*>")),  # <font>, <script>, <img>, <b> …
    ("entity", re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.I)),
    ("bold", re.compile(r"(\*\*|__)(?=\S)[^\n]*?(?<=\S)\1")),
    ("italic", re.compile(r"(?<![*\w])([*_])(?=[^\s*_])[^\n*_]*?(?<=[^\s*_])\1(?![*\w])")),
    ("code", re.compile(r"`[^`\n]*`|```")),
    ("strike", re.compile(r"~~[^\n]*?~~")),
    ("heading", re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)", re.M)),
    ("quote", re.compile(r"^ {0,3}>", re.M)),
    ("list", re.compile(r"^\s*(?:[-+*]|\d+[.)])[ \t]", re.M)),
    ("table", re.compile(r"^\s*\|.*\|\s*$", re.M)),
    ("rule", re.compile(r"^ {0,3}(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$", re.M)),
    ("escape", re.compile(r"\\[\\`*_{}\[\]()#+\-.!<>|~@&]")),
)


def markup(text: str) -> list[tuple[str, str]]:
    """Every markup token in `text`, and one `("line", …)` per line and one `("invisible", …)`
    per hidden or reordering character."""
    found = [(kind, m[0]) for kind, pattern in _PATTERNS for m in pattern.finditer(text)]
    found += [("line", line) for line in re.split(r"\r\n|[\n\r\u2028\u2029\x85\v\f]", text)]
    found += [("invisible", f"U+{ord(ch):04X}") for ch in text if ch in INVISIBLE]
    return found


def kinds(text: str) -> Counter[str]:
    """How many tokens of each kind `text` holds."""
    return Counter(kind for kind, _ in markup(text))


@dataclass
class Received:
    """One accepted message as a chat shows it."""

    text: str
    links: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


def received(message: Accepted) -> Received:
    """The text, links and mentions of one accepted message, read from the wire body."""
    body = message.body
    if message.platform == "feishu":
        return _feishu(body)
    if message.platform == "wecom":
        inner = body[message.msgtype]
        text = str(inner.get("content", ""))
        mentions = [f"mobile:{m}" for m in inner.get("mentioned_mobile_list", [])]
        mentions += [f"user:{u}" for u in inner.get("mentioned_list", [])]
    else:  # dingtalk
        inner = body[message.msgtype]
        text = "\n".join(str(inner.get(k, "")) for k in ("title", "text", "content") if k in inner)
        at = body.get("at", {})
        mentions = [f"mobile:{m}" for m in at.get("atMobiles", [])]
        mentions += [f"user:{u}" for u in at.get("atUserIds", [])]
        if at.get("isAtAll"):
            mentions.append("user:@all")
    tokens = markup(text)
    mentions += [f"tag:{t}" for kind, t in tokens if kind == "mention" and t.startswith("<")]
    links = [t for kind, t in tokens if kind == "link"] + message.buttons
    return Received(text, links, mentions)


def _feishu(body: dict[str, Any]) -> Received:
    if body.get("msg_type") == "interactive":
        return _feishu_card(body)
    if body.get("msg_type") == "text":
        text = str(body["content"]["text"])
        tokens = markup(text)
        tags = [t for kind, t in tokens if kind == "mention" and t.startswith("<")]
        return Received(text, [t for kind, t in tokens if kind == "link"], tags)
    post = body["content"]["post"]["zh_cn"]
    lines: list[str] = [str(post.get("title", ""))]
    links: list[str] = []
    mentions: list[str] = []
    for paragraph in post["content"]:
        shown = []
        for element in paragraph:
            tag = element.get("tag")
            if tag == "a":
                links.append(str(element.get("href")))
            elif tag == "at":
                mentions.append(f"user:{element.get('user_id')}")
            shown.append(str(element.get("text", element.get("user_name", ""))))
        lines.append("".join(shown))
    return Received("\n".join(lines), links, mentions)


def _feishu_card(body: dict[str, Any]) -> Received:
    """A Feishu interactive card: its header, `div` texts and button addresses."""
    texts = [str(e["text"]["content"]) for e in body["card"]["elements"] if e.get("tag") == "div"]
    text = "\n".join([str(body["card"]["header"]["title"]["content"]), *texts])
    tokens = markup(text)
    links = [t for kind, t in tokens if kind == "link"]
    links += [
        str(b["url"])
        for e in body["card"]["elements"]
        if e.get("tag") == "action"
        for b in e.get("actions", [])
    ]
    tags = [t for kind, t in tokens if kind == "mention" and t.startswith("<")]
    return Received(text, links, tags)
