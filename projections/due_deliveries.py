"""Delivery facts for the due index: when each reminder reached its task's lead-unit chat.

The fair ladder (PRODUCT.md rule 4) issues a rung of 催办 or above only after the rung below
it reached the lead unit's chat. That fact lives in the outbox: a `ChatMessage` is queued
with the reminder keys it carries and its chat (`Queued`), and later `Delivered`. The due
index folds both into the facts of each task the message names: `pending` (message id →
the keys that count, while the message waits) and `delivered` (key → local date).

A key counts when its message goes to the lead unit's chat, or, for a rung whose audience
has no lead unit (a custom ladder), to any chat. Which chat is the lead unit's comes from
the config (`lead_channel`), which is why it is part of the index's fingerprint.

The 交办 notice (kind `assignment_notice`) is the message below the first rung: while one
for a task waits in the lead unit's chat the task's `told` is "pending", once delivered it
is the date, so that 催办 follows the 交办 a working day later, never beside it. A 交办 notice
given up on (`Failed`) stops holding the ladder; a reminder given up on keeps holding the next
rung (the office was told of the failure: the unit has not heard, so nothing climbs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from domain.ladder import Ladder, LadderError, ReminderKey
from domain.reminder import ChatMessage
from domain.task import task_id
from projections.facts import Facts

__all__ = [
    "ASSIGNMENT_NOTICE",
    "DELIVERY_EVENTS",
    "DeliveryFold",
    "LeadChannel",
    "delivered_dates",
    "told",
]

DELIVERY_EVENTS = (ChatMessage.Queued, ChatMessage.Delivered, ChatMessage.Failed)
ASSIGNMENT_NOTICE = "assignment_notice"
"""The kind of the 交办 notices: defined here, where the ladder waits on them, and taken by
`duban.app.notice_parts` for the messages it plans."""
TOLD = "@told"  # in `pending`: the message is the task's 交办 notice

LeadChannel = Callable[[str], str]  # unit name → the chat its reminders go to


def _task_codes(keys: Iterable[str]) -> dict[str, list[str]]:
    """The reminder keys of a message by the task they are about (other keys ignored)."""
    by_task: dict[str, list[str]] = {}
    for key in keys:
        try:
            parsed = ReminderKey.parse(key)
        except ValueError:
            continue
        by_task.setdefault(parsed.task_code, []).append(key)
    return by_task


class DeliveryFold:
    """Folds the outbox's events into the facts of the tasks their reminders are about."""

    def __init__(self, ladder: Ladder, lead_channel: LeadChannel, tz: ZoneInfo) -> None:
        self._ladder = ladder
        self._lead_channel = lead_channel
        self._tz = tz

    def task_keys(self, event: Any) -> list[str]:
        """The due index's row keys an outbox event may touch (to load them first)."""
        kind = type(event)
        if kind is ChatMessage.Queued:
            codes = [*_task_codes(event.reminder_keys), *self._noticed(event)]
            return [str(task_id(code)) for code in codes]
        if kind in (ChatMessage.Delivered, ChatMessage.Failed):
            return [str(task_id(code)) for code in event.task_codes]
        return []

    def apply(self, facts: dict[str, Facts], event: Any) -> list[str]:
        """Fold one outbox event; the row keys it changed."""
        kind = type(event)
        if kind is ChatMessage.Queued:
            return self._queued(facts, event)
        if kind is ChatMessage.Delivered:
            return self._delivered(facts, event)
        if kind is ChatMessage.Failed:
            return self._failed(facts, event)
        return []

    def _counts(self, key: str, channel: str, lead_unit: str) -> bool:
        try:
            rung = self._ladder.rung(ReminderKey.parse(key).rung)
        except (LadderError, ValueError):
            return channel == self._lead_channel(lead_unit)
        if "lead_unit" not in rung.audience:
            return True
        return channel == self._lead_channel(lead_unit)

    @staticmethod
    def _noticed(event: Any) -> list[str]:
        """The tasks a 交办 notice tells of (none for other messages)."""
        return list(event.task_codes) if event.kind == ASSIGNMENT_NOTICE else []

    def _queued(self, facts: dict[str, Facts], event: Any) -> list[str]:
        changed = []
        for code in self._noticed(event):
            row = str(task_id(code))
            task = facts.get(row)
            if task is not None and event.channel == self._lead_channel(task["lead_unit"]):
                task.setdefault("pending", {})[str(event.originator_id)] = [TOLD]
                if not task.get("told"):
                    task["told"] = "pending"
                changed.append(row)
        for code, keys in _task_codes(event.reminder_keys).items():
            row = str(task_id(code))
            task = facts.get(row)
            if task is None:
                continue
            counted = [k for k in keys if self._counts(k, event.channel, task["lead_unit"])]
            if counted:
                task.setdefault("pending", {})[str(event.originator_id)] = counted
                changed.append(row)
        return changed

    def _failed(self, facts: dict[str, Facts], event: Any) -> list[str]:
        changed = []
        for code in dict.fromkeys(event.task_codes):
            row = str(task_id(code))
            task = facts.get(row)
            keys = (task or {}).get("pending", {}).pop(str(event.originator_id), None)
            if task is not None and keys is not None and _failed_notice(task, keys):
                changed.append(row)
        return changed

    def _delivered(self, facts: dict[str, Facts], event: Any) -> list[str]:
        changed = []
        day = event.at.astimezone(self._tz).date().isoformat()
        for code in dict.fromkeys(event.task_codes):
            row = str(task_id(code))
            task = facts.get(row)
            keys = (task or {}).get("pending", {}).pop(str(event.originator_id), None)
            if task is None or keys is None:
                continue
            delivered = task.setdefault("delivered", {})
            for key in keys:
                if key == TOLD:
                    if task.get("told") in (None, "pending"):
                        task["told"] = day
                else:
                    delivered.setdefault(key, day)
            changed.append(row)
        return changed


def _failed_notice(task: Facts, keys: list[str]) -> bool:
    """A 交办 notice given up on no longer holds the ladder (its first rung tells the unit,
    and the office was told of the failure); a reminder that failed still does."""
    if TOLD in keys and task.get("told") == "pending":
        task["told"] = None
        return True
    return False


def delivered_dates(facts: Facts) -> dict[str, dt.date]:
    """Key → the date it reached the lead unit's chat, from a task's facts."""
    return {k: dt.date.fromisoformat(v) for k, v in (facts.get("delivered") or {}).items()}


def told(facts: Facts) -> tuple[dt.date | None, bool]:
    """(when the 交办 notice reached the lead unit, whether one still waits to)."""
    value = facts.get("told")
    if value == "pending":
        return None, True
    return (dt.date.fromisoformat(value) if value else None), False
