"""The plain rules of a reform task that need no aggregate: its statuses, the facts an import
may revise, and whose report counts for what. `domain.task` re-exports them."""

from __future__ import annotations

from typing import Any

__all__ = [
    "REVISABLE_FIELDS",
    "STATUS_LABELS",
    "TaskStatus",
    "co_unit_of",
    "co_unit_report",
    "copy_value",
    "sets_percent",
]


class TaskStatus:
    ASSIGNED = "assigned"  # 已交办
    CLAIMED = "claimed"  # 已签收
    SUBMITTED = "submitted"  # 已申请办结
    COMPLETED = "completed"  # 已销号
    CANCELLED = "cancelled"  # 已撤销

    CLOSED = frozenset({COMPLETED, CANCELLED})


STATUS_LABELS = {
    TaskStatus.ASSIGNED: "已交办",
    TaskStatus.CLAIMED: "推进中",
    TaskStatus.SUBMITTED: "待销号",
    TaskStatus.COMPLETED: "已销号",
    TaskStatus.CANCELLED: "已撤销",
}

REVISABLE_FIELDS = (
    "title",
    "area",
    "lead_unit",
    "co_units",
    "official",
    "group",
    "deadline",
    "deadline_text",
    "milestones",
    "notes",
)


def copy_value(value: Any) -> Any:
    """Lists of facts are copied so that replayed and live aggregates never share state."""
    if isinstance(value, list | tuple):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    return value


def sets_percent(actor: str, lead_unit: str) -> bool:
    """The task's percent belongs to its lead unit: a report by the lead unit's liaison or by
    the office sets it; a co-unit's (or the leading official's) report is recorded as their
    contribution and leaves the percent as it was."""
    role, _, rest = actor.partition(":")
    return role == "office" or (role == "liaison" and rest.startswith(f"{lead_unit}/"))


def co_unit_report(actor: str, lead_unit: str, co_units: list[str]) -> bool:
    """A report by the liaison of one of the task's co-units (配合单位): it may come from
    assignment on, before the lead unit claims, and never sets the percent."""
    role, _, rest = actor.partition(":")
    if role != "liaison" or sets_percent(actor, lead_unit):
        return False
    return any(rest.startswith(f"{unit}/") for unit in co_units)


def co_unit_of(actor: str) -> str:
    """The unit of a liaison actor (`liaison:UNIT/name`)."""
    return actor.partition(":")[2].rpartition("/")[0]
