"""`duban task show` and `duban task history` as a person reads them (table mode): Chinese
names for every field, dates as 「2024年6月30日」, statuses, events and people by their labels.
`--format json` keeps the identifiers and ISO dates (this module is not used for it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from duban.app.audit_via import via_of, via_text
from duban.app.vocabulary import actor_text, date_text, event_label, label, moment_text

__all__ = ["history_rows", "task_lines"]


def _list(value: Any) -> str:
    return "、".join(str(v) for v in value or ()) or "无"


def _milestones(value: Any) -> str:
    return "；".join(f"{m['name']}（{date_text(m.get('due'))}）" for m in value or ()) or "无"


def _extensions(value: Any) -> str:
    shown = [f"{date_text(e.get('from'))} → {date_text(e.get('to'))}" for e in value or ()]
    return "；".join(shown) or "无"


def _escalations(value: Any) -> str:
    shown = [f"{label('rung', e.get('rung'))}（{moment_text(e.get('at'))}）" for e in value or ()]
    return "；".join(shown) or "无"


def _recognitions(value: Any) -> str:
    shown = [
        f"{label('recognition', r.get('level'))}{label('recognition_kind', str(r.get('kind')))}"
        f"「{r.get('title')}」"
        for r in value or ()
    ]
    return "；".join(shown) or "无"


def _on_time(value: Any) -> str:
    return "无" if value is None else ("按期" if value else "逾期")


def _text(value: Any) -> str:
    return "无" if value in (None, "") else str(value)


# (key, 中文, how its value reads); the fields `task show` prints, in this order.
_FIELDS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("code", "任务编号", _text),
    ("title", "改革任务", _text),
    ("area", "领域", _text),
    ("lead_unit", "牵头单位", _text),
    ("co_units", "配合单位", _list),
    ("official", "领衔领导", _text),
    ("group", "专责小组", _text),
    ("deadline", "完成时限", lambda v: date_text(v) if v else "持续推进"),
    ("deadline_text", "时限表述", _text),
    ("milestones", "阶段节点", _milestones),
    ("status", "状态", lambda v: label("status", v)),
    ("claimed_by", "签收人", lambda v: actor_text(v) if v else "无"),
    ("percent", "完成进度", lambda v: f"{v or 0}%"),
    ("reports", "报送次数", lambda v: f"{v or 0}次"),
    ("last_report_at", "最近报送", lambda v: moment_text(v) if v else "无"),
    ("pending_extension", "待批延期至", lambda v: date_text(v) if v else "无"),
    ("extensions", "已批延期", _extensions),
    ("submitted_at", "申请办结时间", lambda v: moment_text(v) if v else "无"),
    ("closed_at", "办结时间", lambda v: moment_text(v) if v else "无"),
    ("completed_on_time", "是否按期", _on_time),
    ("escalations", "督办升级", _escalations),
    ("recognitions", "表彰推广", _recognitions),
    ("notes", "备注", _text),
)
_SKIP_WHEN_EMPTY = frozenset(
    {"deadline_text", "notes", "pending_extension", "submitted_at", "closed_at"}
)


def task_lines(state: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> list[str]:
    """One 「名称：值」 line per field; the assigned deadline only when an extension moved it;
    the leading official with their title (`titles`: name → title, from the config)."""
    lines = []
    for key, name, shown in _FIELDS:
        value = state.get(key)
        if key in _SKIP_WHEN_EMPTY and value in (None, ""):
            continue
        if key == "completed_on_time" and state.get("closed_at") is None:
            continue
        if key == "deadline_text" and value == _iso(state.get("deadline")):
            continue  # 「2024-06-30」 says nothing 完成时限 does not
        if key == "official" and value and titles:
            value = f"{titles.get(str(value), '')}{value}"
        lines.append(f"{name}：{shown(value)}")
        if key == "deadline" and state.get("assigned_deadline") not in (None, value):
            lines.append(f"原定完成时限：{date_text(state.get('assigned_deadline'))}")
    return lines


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


HISTORY_COLUMNS = [("version", "序号"), ("at", "时间"), ("type", "事项"), ("actor", "办理人")]


def history_rows(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The task's events for the table: time, the event's label and who, in Chinese; who
    with the door they came through (「（网页登录）」「（接口令牌 id）」), as the audit says."""
    return [
        {
            "version": e.get("version"),
            "at": moment_text(e.get("at")) if e.get("at") else "（未记录）",
            "type": event_label(str(e.get("type", ""))),
            "actor": actor_text(e.get("actor")) + via_text(via_of(e)),
        }
        for e in events
    ]
