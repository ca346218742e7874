"""The parts of a reform task's state that came after its first stores: reached 阶段节点 and
the co-units' latest reports. A task loaded from a snapshot written before them has neither
attribute, so each is read through a property that answers "none yet" for it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.errors import MilestoneAlreadyClosed, MilestoneNotFound
from domain.task_rules import co_unit_of

__all__ = ["TaskParts"]


class TaskParts:
    """Mixed into `domain.task.ReformTask` (which records the events that change these)."""

    code: str
    milestones: list[dict[str, Any]]

    @property
    def closed_milestones(self) -> list[str]:
        """The names of the 阶段节点 reached, in order (stores from before: none)."""
        return list(self.__dict__.get("_closed_milestones", []))

    @property
    def co_unit_reports(self) -> list[dict[str, Any]]:
        """Each co-unit's latest report on the task (unit, who, when, text and the percent it gave
        for its own part), in the order the co-units first reported: one entry per co-unit, so
        it never grows with history."""
        return [dict(r) for r in self.__dict__.get("_co_unit_reports", [])]

    def _keep_co_unit_report(
        self, text: str, actor: str, at: dt.datetime, percent: int | None = None
    ) -> None:
        """`percent`: the co-unit's own progress on its part (not the task's)."""
        unit = co_unit_of(actor)
        latest = {"unit": unit, "by": actor, "at": at, "text": text, "percent": percent}
        reports = self.co_unit_reports
        for i, report in enumerate(reports):
            if report["unit"] == unit:
                reports[i] = latest
                break
        else:
            reports.append(latest)
        self._co_unit_reports = reports

    def _require_open_milestone(self, name: str) -> None:
        if name not in [m.get("name") for m in self.milestones]:
            known = "、".join(str(m.get("name")) for m in self.milestones) or "无"
            raise MilestoneNotFound(
                f"任务 {self.code} 没有名为「{name}」的阶段节点（现有：{known}）"
            )
        if name in self.closed_milestones:
            raise MilestoneAlreadyClosed(
                f"任务 {self.code} 的阶段节点「{name}」已完成，不能重复完成"
            )
