"""The columns of a task list: each `AssignTask` field, its Chinese label, and the headers
offices write for it ("牵头单位（部门）", "任务名称", "*编号", English names in YAML)."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "FIELD_LABELS",
    "FIELD_OF_HEADER",
    "IGNORED_HEADERS",
    "REQUIRED",
    "TASK_FIELDS",
    "header_key",
]

FIELD_LABELS = {
    "code": "编号",
    "title": "改革任务",
    "lead_unit": "牵头单位",
    "co_units": "配合单位",
    "official": "领衔领导",
    "deadline": "完成时限",
    "milestones": "阶段节点",
    "group": "专责小组",
    "area": "领域",
    "notes": "备注",
}
_ALIASES = {
    "code": ("编号", "任务编号", "code"),
    "title": ("改革任务", "任务", "任务名称", "改革事项", "重点改革任务", "title", "task"),
    "lead_unit": ("牵头单位", "牵头部门", "lead_unit", "lead"),
    "co_units": ("配合单位", "配合部门", "协同单位", "co_units"),
    "official": ("领衔领导", "牵头领导", "责任领导", "official"),
    "deadline": ("完成时限", "完成时间", "时限", "deadline"),
    "milestones": ("阶段节点", "节点", "时间节点", "milestones"),
    "group": ("专责小组", "所属专责小组", "group"),
    "area": ("领域", "改革领域", "所属领域", "area"),
    "notes": ("备注", "notes", "note", "remarks"),
}
REQUIRED = ("code", "title", "lead_unit", "deadline")
# Columns that decide whether a row holds a task at all (专责小组 or 备注 alone do not).
TASK_FIELDS = ("code", "title", "lead_unit", "co_units", "official", "deadline", "milestones")


def header_key(value: object) -> str:
    """A header spelled any of the usual ways: "牵头单位（部门）", " Lead unit ", "*编号"."""
    text = unicodedata.normalize("NFKC", str(value)).lower()
    return re.sub(r"\(.*?\)|[\s_\-*:\ufeff]", "", text)


FIELD_OF_HEADER = {header_key(a): name for name, aliases in _ALIASES.items() for a in aliases}
IGNORED_HEADERS = frozenset(header_key(h) for h in ("序号", "no", "no.", "index", "#"))
