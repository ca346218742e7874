"""The console channel: prints each message as readable Chinese text, for trials and demos."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from notifiers.base import DeliveryAnswer, OutgoingMessage

__all__ = ["ConsoleNotifier"]

_MARKUP = re.compile(r"^#{1,6}\s+|\*\*")


class ConsoleNotifier:
    """Always accepts. Writes to `stream`, or to the current `sys.stdout` when none is given."""

    platform = "console"
    max_body_bytes = 1_000_000
    limits = ()

    def __init__(self, name: str = "console", stream: TextIO | None = None) -> None:
        self._name = name
        self._stream = stream

    @property
    def robot(self) -> str:
        return f"console:{self._name}"

    def __repr__(self) -> str:
        return f"ConsoleNotifier(name={self._name!r})"

    def parts(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        return [message]

    def requests_for(self, message: OutgoingMessage) -> int:
        return 1

    def render(self, message: OutgoingMessage) -> str:
        lines = [f"━━ 【{self._name}】{message.title} ━━"]
        if message.markdown:
            lines += [_MARKUP.sub("", line) for line in message.markdown.split("\n")]
        mentioned = [*message.mention_names, *message.mention_mobiles]
        mentioned += [person.name for person in message.feishu_mentions]
        if message.mention_all:
            mentioned.append("所有人")
        if mentioned:
            lines.append("提醒：" + " ".join(f"@{who}" for who in mentioned))
        return "\n".join(lines) + "\n"

    def send(self, message: OutgoingMessage) -> DeliveryAnswer:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(self.render(message))
        stream.flush()
        return DeliveryAnswer(ok=True, kind="ok", code=0, detail="已输出到控制台", http_status=None)
