"""前置初审: units submit major reform plans, the office reviews them, everyone reads them.

Part of the `Ledger`. The rules of who submits for which unit live here, not in the entry
points: a liaison submits only their own unit's plan (the unit may be left out), anyone else
must name the unit. A plan tied to a task names a task that exists (404 otherwise), and a
liaison ties a plan only to a task their unit leads (403 otherwise; `duban.app.task_access`);
a plan may also name the task's 阶段节点 that its approval reaches. A returned plan is
resubmitted under the same code as its next version; the approval closes the linked milestone.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.errors import Forbidden, MilestoneNotFound
from domain.plan_review import PlanReview
from domain.roles import Identity, authorize
from duban.app.errors import Conflict, InvalidRequest, PlanNotFound
from duban.app.task_access import TaskAccess

__all__ = ["PlanReviews", "Verdict", "submitting_unit"]

Verdict = Literal["opinion", "approve", "return"]
_PLAN_FIELDS = (
    "plan_code", "title", "unit", "task_code", "milestone", "status", "opinions", "version",
    "revision", "versions", "reviews",
)  # fmt: skip


class PlanReviews(TaskAccess):
    """The ledger's plan commands and reads."""

    def submit_plan(
        self,
        plan_code: str,
        title: str,
        unit: str | None,
        task_code: str | None,
        who: Identity,
        *,
        milestone: str | None = None,
        text: str = "",
    ) -> UUID:
        """Submit a plan for `unit` (a liaison's own unit when None), tied to a task and to the
        task's 阶段节点 its approval reaches, when named (both must exist)."""
        authorize(who, "submit_plan")
        if milestone is not None and task_code is None:
            raise InvalidRequest("body.milestone：关联阶段节点时须同时指明任务编号")
        if task_code is not None:
            task = self._task_for(task_code, who, "submit_plan")
            if milestone is not None and milestone not in [m["name"] for m in task.milestones]:
                known = "、".join(m["name"] for m in task.milestones) or "无"
                raise MilestoneNotFound(
                    f"任务 {task_code} 没有名为「{milestone}」的阶段节点（现有：{known}）"
                )
        if self._plan_or_none(plan_code) is not None:
            raise Conflict(
                f"编号为 {plan_code} 的方案已报送；被退回的方案请修改后重新报送（新版本）"
            )
        plan = PlanReview(
            plan_code=plan_code,
            title=title,
            unit=submitting_unit(unit, who),
            task_code=task_code,
            actor=who.actor,
            at=self.clock(),
            milestone=milestone,
            text=text,
            via=who.via,
        )
        self._save_new(plan)
        return plan.id

    def resubmit_plan(self, plan_code: str, title: str | None, text: str, who: Identity) -> int:
        """A returned plan, revised, submitted again as its next version (the version number)."""
        authorize(who, "submit_plan")
        plan = self._plan(plan_code)
        if who.role == "liaison" and who.unit != plan.unit:
            raise Forbidden(f"联络员（{who.unit}）只能重新报送本单位的方案")
        plan.resubmit(title or plan.title, text, who.actor, self.clock(), who.via)
        self._save_plan(plan)
        return plan.revision

    def review_plan(self, plan_code: str, verdict: Verdict, text: str, who: Identity) -> str:
        """An opinion, an approval or a return. Returns the plan's new status.

        An approval of a plan tied to a task's 阶段节点 closes that milestone (via "plan") in the
        same save as the approval, unless it is closed already or the task is."""
        authorize(who, "review_plan")
        plan = self._plan(plan_code)
        actions = {"opinion": plan.add_opinion, "approve": plan.approve, "return": plan.return_plan}
        at = self.clock()
        actions[verdict](text, who.actor, at, who.via)
        touched: list[Aggregate] = [plan]
        if verdict == "approve" and plan.task_code is not None and plan.milestone is not None:
            task = self._task(plan.task_code)
            if not task.is_closed and plan.milestone not in task.closed_milestones:
                reason = f"方案 {plan_code}（第{plan.revision}版）前置初审通过：{text}"
                task.close_milestone(plan.milestone, reason, "plan", who.actor, at, who.via)
                touched.append(task)
        self._save_plan(*touched)
        return plan.status

    def plan(self, plan_code: str, who: Identity) -> dict[str, Any]:
        """One plan as it stands, with its review opinions."""
        authorize(who, "read")
        return _state(self._plan(plan_code))

    def plans(self, who: Identity) -> list[dict[str, Any]]:
        """Every plan, in the order they were submitted."""
        authorize(who, "read")
        codes = [submitted.plan_code for _, submitted in self.events_of(PlanReview.Submitted)]
        return [_state(self._plan(code)) for code in codes]

    def _plan(self, plan_code: str) -> PlanReview:
        plan = self._plan_or_none(plan_code)
        if plan is None:
            raise PlanNotFound(f"没有编号为 {plan_code} 的方案")
        return plan

    def _plan_or_none(self, plan_code: str) -> PlanReview | None:
        try:
            plan: PlanReview = self.repository.get(PlanReview.create_id(plan_code))
        except AggregateNotFoundError:
            return None
        return plan

    def _save_plan(self, *aggregates: Aggregate) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError as exc:
            raise Conflict("方案或其任务正被同时修改，请重新办理") from exc


def submitting_unit(unit: str | None, who: Identity) -> str:
    """The unit a plan is submitted for: a liaison's own, anyone else's as named."""
    if who.role == "liaison":
        if unit not in (None, who.unit):
            raise Forbidden(f"联络员（{who.unit}）只能报送本单位的方案")
        return str(who.unit)
    if unit is None:
        raise InvalidRequest("body.unit：请指明报送方案的单位")
    return unit


def _state(plan: PlanReview) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in _PLAN_FIELDS}
