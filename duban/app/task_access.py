"""Object-level checks: the one place that decides whether a caller may act on a named task.

Every command that names a task (the lifecycle commands of `duban.app.ledger`, the plans of
`duban.app.plan_reviews`, the task reads) loads the task here: a code that names no task is
`TaskNotFound` (404, exit 1), and a caller whose unit has no part in the task is `Forbidden`
(403, exit 1) by `domain.roles.authorize` — the office may act on any task, a liaison on the
tasks their unit leads (or co-operates, where the action allows co-units), a leading official
on the tasks they lead, an auditor never writes. The CLI and the API both reach these checks
through the ledger, so they cannot differ.
"""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from domain.errors import Forbidden, TaskNotFound
from domain.roles import Action, Identity, authorize
from domain.task import ReformTask, task_id
from duban.app.ledger_base import LedgerBase

__all__ = ["TaskAccess"]

# Actions that `domain.roles` allows a liaison without a task (a plan of their own unit), and
# that, once they name a task, only its lead unit may take.
_LEAD_UNIT_ON_TASK: frozenset[Action] = frozenset({"submit_plan"})


class TaskAccess(LedgerBase):
    """Loading a task by its code, and authorizing a caller on it."""

    def _task(self, code: str) -> ReformTask:
        """The task named `code`; `TaskNotFound` (in Chinese) when there is none."""
        try:
            task: ReformTask = self.repository.get(task_id(code))
        except AggregateNotFoundError:
            raise TaskNotFound(f"没有编号为 {code} 的任务") from None
        return task

    def _task_for(self, code: str, who: Identity, action: Action) -> ReformTask:
        """The task named `code`, once `who` may perform `action` on it (404, then 403)."""
        task = self._task(code)
        authorize(who, action, task.lead_unit, task.co_units, task.official)
        if action in _LEAD_UNIT_ON_TASK and who.role == "liaison" and who.unit != task.lead_unit:
            raise Forbidden(
                f"联络员（{who.unit}）只能就本单位牵头的任务办理：任务 {code} 的牵头单位是"
                f"{task.lead_unit}"
            )
        return task
