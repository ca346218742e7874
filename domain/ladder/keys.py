"""Reminder keys: the stable identity of one reminder, which the sweep stores as fired and
hashes into the reminder's id, so that a rung never fires twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["KEY_SEPARATOR", "ReminderKey", "key_prefix"]

KEY_SEPARATOR = "|"
"""Separates the parts of a key's text form (a rung's name may not contain it)."""
_ESC = "\\"


def _escape(part: str) -> str:
    """Escape the separator so that ``as_str`` stays injective whatever the names contain."""
    return part.replace(_ESC, _ESC + _ESC).replace(KEY_SEPARATOR, _ESC + KEY_SEPARATOR)


def _split(text: str) -> list[str]:
    """Split on unescaped separators and unescape each part (inverse of ``_escape``)."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == _ESC:
            current.append(next(chars, ""))
        elif char == KEY_SEPARATOR:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class ReminderKey:
    """Identity of one reminder: rule 4's (task, the date it is about, rung), plus re-urge seq."""

    task_code: str
    target: str
    due: dt.date
    rung: str
    seq: int = 0

    def as_str(self) -> str:
        """Stable text form, e.g. ``2024-07|deadline|2024-06-30|urge|0``, for uuid5 ids.

        A "|" or "\\" inside a component is escaped with "\\", so distinct keys never
        share a string.
        """
        parts = (self.task_code, self.target, self.due.isoformat(), self.rung, str(self.seq))
        return KEY_SEPARATOR.join(_escape(p) for p in parts)

    @classmethod
    def parse(cls, text: str) -> ReminderKey:
        """Inverse of ``as_str``; ``ValueError`` for text that is not a reminder key."""
        parts = _split(text)
        if len(parts) != 5:
            msg = f"不是催办提醒标识：{text!r}"
            raise ValueError(msg)
        task_code, target, due, rung, seq = parts
        return cls(task_code, target, dt.date.fromisoformat(due), rung, int(seq))


def key_prefix(task_code: str, target: str, due: dt.date, rung: str) -> str:
    """``as_str()`` of the keys of ``rung`` for one target, up to the seq (for cheap probes)."""
    parts = (task_code, target, due.isoformat(), rung)
    return "".join(_escape(p) + KEY_SEPARATOR for p in parts)
