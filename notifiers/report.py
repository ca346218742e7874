"""`DeliveryReport`: what one delivery pass did, as plain data for the CLI, the logs and tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeliveryReport"]


@dataclass
class DeliveryReport:
    """What one pass did, as plain data: counts, message keys, every attempt's answer."""

    now: dt.datetime
    due: int = 0
    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # no robot had room: untouched
    notices: list[str] = field(default_factory=list)  # failure notices queued for the office
    held: list[str] = field(default_factory=list)  # due, but outside working time: untouched
    attempts: list[dict[str, Any]] = field(default_factory=list)
    next_at: float | None = None  # epoch seconds when something can next be sent

    @property
    def sends(self) -> int:
        return len(self.attempts)

    def summary(self) -> str:
        line = (
            f"投递 {self.now:%Y-%m-%d %H:%M}：到期 {self.due} 条，送达 {len(self.delivered)}，"
            f"失败 {len(self.failed)}，待重试 {len(self.retrying)}，限流等待 {len(self.waiting)}，"
            f"发送 {self.sends} 次"
        )
        if self.held:
            line += f"；非工作时间，暂缓发送 {len(self.held)} 条"
        if self.next_at is not None:
            moment = dt.datetime.fromtimestamp(self.next_at, self.now.tzinfo)
            line += f"；下次可发送 {moment:%Y-%m-%d %H:%M:%S}"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "due": self.due,
            "delivered": self.delivered,
            "failed": self.failed,
            "retrying": self.retrying,
            "waiting": self.waiting,
            "notices": self.notices,
            "held": self.held,
            "sends": self.sends,
            "attempts": self.attempts,
            "next_at": self.next_at,
        }
