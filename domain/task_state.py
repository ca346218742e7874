"""A reform task's lifecycle state: where it starts, the questions its commands and readers ask
of it (closed? ongoing? the assigned facts) and the guards that refuse a command in a named
`DomainError`. Mixed into `domain.task.ReformTask`, which records the events that change it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.errors import CompletionNotSubmitted, NoPendingExtension, NotClaimed, TaskClosed
from domain.task_rules import REVISABLE_FIELDS, STATUS_LABELS, TaskStatus

__all__ = ["TaskState", "Via"]

# What an event a person causes records beside `actor`: the door they came through,
# `domain.roles.Identity.via` (``session:<public id>``, ``token:<token_id>``); None from the
# command line and the system, and in every event stored before it was recorded.
Via = str | None


class TaskState:
    """The queries and guards of `domain.task.ReformTask` (the attributes are its state)."""

    code: str
    status: str
    lead_unit: str
    co_units: list[str]
    deadline: dt.date | None
    assigned_deadline: dt.date | None
    pending_extension: dt.date | None
    submitted_at: dt.datetime | None

    def _begin(self) -> None:
        """The lifecycle state of a task just assigned (`ReformTask.__init__`, on replay too)."""
        self.status = TaskStatus.ASSIGNED
        self.claimed_by: str | None = None
        self.percent = 0
        self.last_report_at: dt.datetime | None = None
        self.reports = 0
        self.pending_extension = None
        self.extensions: list[dict[str, Any]] = []
        self.submitted_at = None
        self.closed_at: dt.datetime | None = None
        self.completed_on_time: bool | None = None
        self.escalations: list[dict[str, Any]] = []
        self.recognitions: list[dict[str, Any]] = []
        self._closed_milestones: list[str] = []
        self._co_unit_reports: list[dict[str, Any]] = []

    # ---- queries -------------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        return self.status in TaskStatus.CLOSED

    @property
    def ongoing(self) -> bool:
        """持续推进: no deadline, monthly reporting only."""
        return self.deadline is None

    def assignment(self) -> dict[str, Any]:
        """The assigned facts as the import compares them (extensions do not count)."""
        facts = {name: getattr(self, name) for name in REVISABLE_FIELDS}
        facts["deadline"] = self.assigned_deadline
        return facts

    def units(self) -> list[str]:
        return [self.lead_unit, *self.co_units]

    # ---- guards --------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.is_closed:
            raise TaskClosed(f"任务 {self.code} {STATUS_LABELS[self.status]}，不能再办理")

    def _require_claimed(self, what: str) -> None:
        if self.status == TaskStatus.ASSIGNED:
            raise NotClaimed(f"任务 {self.code} 尚未签收，签收后才能{what}")

    def _require_pending_extension(self) -> dt.date:
        if self.pending_extension is None:
            raise NoPendingExtension(f"任务 {self.code} 没有待审批的延期申请")
        return self.pending_extension

    def _require_submitted(self, what: str) -> dt.datetime:
        if self.status != TaskStatus.SUBMITTED or self.submitted_at is None:
            raise CompletionNotSubmitted(f"任务 {self.code} 尚未申请办结，不能{what}")
        return self.submitted_at
