"""How large one chat message may be on each platform, and how a long text is cut to fit: the
one table of message limits, read from the robots themselves, used by the digests, the report
rounds and the reports alike (planning a message needs no robot and no webhook). A text planned
for a chat has its tables turned into lists first (`notifiers.lists`): no chat renders them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from notifiers.console import ConsoleNotifier
from notifiers.dingtalk import DingTalkNotifier
from notifiers.errors import UnknownPlatform
from notifiers.feishu import FeishuNotifier
from notifiers.lists import for_platform
from notifiers.split import split_message, utf8_len
from notifiers.wecom import WeComNotifier

__all__ = ["BODY_LIMITS", "ENVELOPE_BYTES", "MENTION_BYTES", "body_limit", "split_for_platform"]

BODY_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "wecom": WeComNotifier.max_body_bytes,
        "dingtalk": DingTalkNotifier.max_body_bytes,
        "feishu": FeishuNotifier.max_body_bytes,
        "console": ConsoleNotifier.max_body_bytes,
    }
)
"""The body limit of each platform in bytes, as its robot counts them."""

ENVELOPE_BYTES = 256
"""Room kept in every part for what the robot wraps around the text (keyword, JSON)."""
MENTION_BYTES = 16
"""Room kept per @-mentioned mobile (DingTalk puts ``@mobile`` into the text)."""


def body_limit(platform: str) -> int:
    try:
        return BODY_LIMITS[platform]
    except KeyError:
        known = ", ".join(sorted(BODY_LIMITS))
        raise UnknownPlatform(f"unknown platform {platform!r} (one of: {known})") from None


def split_for_platform(
    platform: str, body: str, title: str = "", mobiles: Sequence[str] = ()
) -> tuple[str, ...]:
    """`body` as one part if it fits `platform`'s limit, else numbered parts that each leave
    room for the title, the robot's envelope and the mentions; its tables as lists on a chat."""
    budget = utf8_len(title) + ENVELOPE_BYTES + MENTION_BYTES * len(mobiles)
    limit = body_limit(platform)
    return tuple(split_message(for_platform(platform, body), limit, budget))
