"""前置初审: units submit major reform plans, the office reviews them, everyone reads them.

Part of the `Ledger`. The rules of who submits for which unit live here, not in the entry
points: a liaison submits only their own unit's plan (the unit may be left out), anyone else
must name the unit. A plan tied to a task names a task that exists (404 otherwise), and a
liaison ties a plan only to a task their unit leads (403 otherwise; `duban.app.task_access`).
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.errors import Forbidden
from domain.plan_review import PlanReview
from domain.roles import Identity, authorize
from duban.app.errors import InvalidRequest, PlanNotFound
from duban.app.task_access import TaskAccess

__all__ = ["PlanReviews", "Verdict", "submitting_unit"]

Verdict = Literal["opinion", "approve", "return"]
_PLAN_FIELDS = ("plan_code", "title", "unit", "task_code", "status", "opinions", "version")


class PlanReviews(TaskAccess):
    """The ledger's plan commands and reads."""

    def submit_plan(
        self, plan_code: str, title: str, unit: str | None, task_code: str | None, who: Identity
    ) -> UUID:
        """Submit a plan for `unit` (a liaison's own unit when None)."""
        authorize(who, "submit_plan")
        if task_code is not None:
            self._task_for(task_code, who, "submit_plan")
        plan = PlanReview(
            plan_code=plan_code,
            title=title,
            unit=submitting_unit(unit, who),
            task_code=task_code,
            actor=who.actor,
            at=self.clock(),
        )
        self._save_new(plan)
        return plan.id

    def review_plan(self, plan_code: str, verdict: Verdict, text: str, who: Identity) -> str:
        """An opinion, an approval or a return. Returns the plan's new status."""
        authorize(who, "review_plan")
        plan = self._plan(plan_code)
        actions = {"opinion": plan.add_opinion, "approve": plan.approve, "return": plan.return_plan}
        actions[verdict](text, who.actor, self.clock())
        self.save(plan)
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
        try:
            plan: PlanReview = self.repository.get(PlanReview.create_id(plan_code))
        except AggregateNotFoundError:
            raise PlanNotFound(f"没有编号为 {plan_code} 的方案") from None
        return plan


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
