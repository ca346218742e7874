"""改革任务: the reform task aggregate and its whole lifecycle.

Public methods check the rule and raise a named `DomainError`; the private methods decorated
with `@event` only record facts, so replaying history never re-evaluates a rule.
Every event carries `actor` (who did it) and `at` (when it happened in the office's world,
an aware datetime); the library adds its own write timestamp beside them. An event a person
causes also records `via` (`domain.task_state.Via`: the web session or API token it came through).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import (
    AlreadyClaimed,
    CompletionAlreadySubmitted,
    ExtensionAlreadyPending,
    ExtensionDateNotLater,
    MilestoneNotYours,
    NoDeadline,
)
from domain.evidence import Files
from domain.ids import natural_id
from domain.task_parts import TaskParts
from domain.task_rules import (
    REVISABLE_FIELDS,
    STATUS_LABELS,
    TaskStatus,
    co_unit_report,
    copy_value,
    sets_percent,
)
from domain.task_state import TaskState, Via

__all__ = [
    "REVISABLE_FIELDS",
    "STATUS_LABELS",
    "ReformTask",
    "TaskStatus",
    "co_unit_report",
    "sets_percent",
    "task_id",
]


def task_id(code: str) -> UUID:
    return natural_id("task", code)


class ReformTask(TaskState, TaskParts, Aggregate):
    """One line of the 改革要点 list, identified by its code (编号); its queries and guards
    are `TaskState`'s."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Assigned: ClassVar[type[DomainEvent]]
    Revised: ClassVar[type[DomainEvent]]
    Claimed: ClassVar[type[DomainEvent]]
    ProgressReported: ClassVar[type[DomainEvent]]
    ExtensionRequested: ClassVar[type[DomainEvent]]
    ExtensionGranted: ClassVar[type[DomainEvent]]
    ExtensionDenied: ClassVar[type[DomainEvent]]
    CompletionSubmitted: ClassVar[type[DomainEvent]]
    CompletionAccepted: ClassVar[type[DomainEvent]]
    CompletionReturned: ClassVar[type[DomainEvent]]
    Cancelled: ClassVar[type[DomainEvent]]
    EscalationRecorded: ClassVar[type[DomainEvent]]
    Recognised: ClassVar[type[DomainEvent]]
    MilestoneClosed: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(code: str) -> UUID:
        return task_id(code)

    @event("Assigned")
    def __init__(
        self,
        code: str,
        title: str,
        lead_unit: str,
        co_units: list[str],
        official: str | None,
        group: str | None,
        area: str | None,
        deadline: dt.date | None,
        deadline_text: str,
        milestones: list[dict[str, Any]],
        notes: str,
        actor: str,
        at: dt.datetime,
        via: Via = None,
    ) -> None:
        self.code = code
        self.title = title
        self.lead_unit = lead_unit
        self.co_units = list(co_units)
        self.official = official
        self.group = group
        self.area = area
        self.deadline = deadline  # effective deadline, moved by granted extensions
        self.assigned_deadline = deadline  # as the office assigned it (the import compares this)
        self.deadline_text = deadline_text
        self.milestones = [dict(m) for m in milestones]
        self.notes = notes
        self.assigned_by = actor
        self.assigned_at = at
        self._begin()

    # ---- commands ------------------------------------------------------------------------

    def revise(
        self, changes: dict[str, Any], actor: str, at: dt.datetime, reason: str, via: Via = None
    ) -> None:
        """Record only the assigned facts that really changed (re-import of an edited row)."""
        unknown = set(changes) - set(REVISABLE_FIELDS)
        if unknown:
            raise ValueError(f"not revisable: {sorted(unknown)}")
        current = self.assignment()
        changed = {k: v for k, v in changes.items() if current[k] != v}
        if not changed:
            return
        previous = {k: current[k] for k in changed}
        self._revised(
            changes=changed, previous=previous, actor=actor, at=at, reason=reason, via=via
        )

    def claim(self, actor: str, at: dt.datetime, via: Via = None) -> None:
        self._require_open()
        if self.status != TaskStatus.ASSIGNED:
            raise AlreadyClaimed(f"任务 {self.code} 已由 {self.claimed_by} 签收，不能重复签收")
        self._claimed(actor=actor, at=at, via=via)

    def report_progress(
        self,
        text: str,
        percent: int,
        evidence: list[str],
        actor: str,
        at: dt.datetime,
        milestone: str | None = None,
        files: Files = None,
        via: Via = None,
    ) -> None:
        """进展报送. A co-unit reports on its part from assignment on; the lead unit (or the
        office) reports once claimed, and may name the 阶段节点 the report says is reached.
        `files`: the stored evidence files (`domain.evidence.FileRef.record()`)."""
        self._require_open()
        if not co_unit_report(actor, self.lead_unit, self.co_units):
            self._require_claimed("报送进展")
        if milestone is not None:
            if not sets_percent(actor, self.lead_unit):
                raise MilestoneNotYours(
                    f"任务 {self.code} 的阶段节点由牵头单位 {self.lead_unit} 报送确认完成"
                )
            self._require_open_milestone(milestone)
        self._progress_reported(
            text=text, percent=percent, evidence=evidence, actor=actor, at=at, files=files, via=via
        )
        if milestone is not None:
            self._milestone_closed(
                name=milestone, reason=text, via="report", actor=actor, at=at, through=via
            )

    def request_extension(
        self,
        new_deadline: dt.date,
        reason: str,
        actor: str,
        at: dt.datetime,
        files: Files = None,
        via: Via = None,
    ) -> None:
        self._require_open()
        self._require_claimed("申请延期")
        if self.deadline is None:
            raise NoDeadline(f"任务 {self.code} 为持续推进事项，没有完成时限可延期")
        if self.pending_extension is not None:
            raise ExtensionAlreadyPending(
                f"任务 {self.code} 已有待审批的延期申请（至 {self.pending_extension}）"
            )
        if new_deadline <= self.deadline:
            raise ExtensionDateNotLater(
                f"延期后的时限 {new_deadline} 必须晚于当前时限 {self.deadline}"
            )
        self._extension_requested(
            new_deadline=new_deadline, reason=reason, actor=actor, at=at, files=files, via=via
        )

    def grant_extension(
        self,
        reason: str,
        actor: str,
        at: dt.datetime,
        new_deadline: dt.date | None = None,
        via: Via = None,
    ) -> None:
        self._require_open()
        requested = self._require_pending_extension()
        granted = new_deadline or requested
        if self.deadline is not None and granted <= self.deadline:
            raise ExtensionDateNotLater(f"批准的时限 {granted} 必须晚于当前时限 {self.deadline}")
        self._extension_granted(
            new_deadline=granted,
            previous_deadline=self.deadline,
            reason=reason,
            actor=actor,
            at=at,
            via=via,
        )

    def deny_extension(self, reason: str, actor: str, at: dt.datetime, via: Via = None) -> None:
        self._require_open()
        self._require_pending_extension()
        self._extension_denied(reason=reason, actor=actor, at=at, via=via)

    def submit_completion(
        self,
        summary: str,
        evidence: list[str],
        actor: str,
        at: dt.datetime,
        files: Files = None,
        via: Via = None,
    ) -> None:
        self._require_open()
        self._require_claimed("申请办结")
        if self.status == TaskStatus.SUBMITTED:
            raise CompletionAlreadySubmitted(f"任务 {self.code} 的办结申请已提交，正在审核")
        self._completion_submitted(
            summary=summary, evidence=evidence, actor=actor, at=at, files=files, via=via
        )

    def accept_completion(self, reason: str, actor: str, at: dt.datetime, via: Via = None) -> None:
        self._require_open()
        submitted_at = self._require_submitted("销号")
        on_time = self.deadline is None or submitted_at.date() <= self.deadline
        self._completion_accepted(reason=reason, on_time=on_time, actor=actor, at=at, via=via)

    def return_completion(self, reason: str, actor: str, at: dt.datetime, via: Via = None) -> None:
        self._require_open()
        self._require_submitted("退回")
        self._completion_returned(reason=reason, actor=actor, at=at, via=via)

    def cancel(self, reason: str, actor: str, at: dt.datetime, via: Via = None) -> None:
        self._require_open()
        self._cancelled(reason=reason, actor=actor, at=at, via=via)

    def record_escalation(
        self, rung: str, target: str, due: dt.date, reminder_key: str, actor: str, at: dt.datetime
    ) -> None:
        """催办 / 督办 / 通报 are facts about the task, not only messages."""
        self._require_open()
        self._escalation_recorded(
            rung=rung, target=target, due=due, reminder_key=reminder_key, actor=actor, at=at
        )

    def recognise(
        self, kind: str, level: str, title: str, actor: str, at: dt.datetime, via: Via = None
    ) -> None:
        """改革试点 / 改革典型: recognition can come after the task closed."""
        self._recognised(kind=kind, level=level, title=title, actor=actor, at=at, via=via)

    def close_milestone(
        self, name: str, reason: str, via: str, actor: str, at: dt.datetime, through: Via = None
    ) -> None:
        """A 阶段节点 is reached: the lead unit's report, the office, or an approved plan
        (`via`); `through`: the session or token the person acted through (`Identity.via`)."""
        self._require_open()
        self._require_open_milestone(name)
        self._milestone_closed(
            name=name, reason=reason, via=via, actor=actor, at=at, through=through
        )

    # ---- events --------------------------------------------------------------------------

    @event("Revised")
    def _revised(
        self,
        changes: dict[str, Any],
        previous: dict[str, Any],
        actor: str,
        at: dt.datetime,
        reason: str,
        via: Via = None,
    ) -> None:
        for name, value in changes.items():
            if name == "deadline":
                # A revised deadline is a new decision of the office: it replaces any extension.
                self.assigned_deadline = value
            setattr(self, name, copy_value(value))

    @event("Claimed")
    def _claimed(self, actor: str, at: dt.datetime, via: Via = None) -> None:
        self.status = TaskStatus.CLAIMED
        self.claimed_by = actor

    @event("ProgressReported")
    def _progress_reported(
        self,
        text: str,
        percent: int,
        evidence: list[str],
        actor: str,
        at: dt.datetime,
        files: Files = None,  # events stored before files: None
        via: Via = None,  # events stored before via: None
    ) -> None:
        if sets_percent(actor, self.lead_unit):
            self.percent = percent
        elif co_unit_report(actor, self.lead_unit, self.co_units):
            self._keep_co_unit_report(text, actor, at, percent)
        self.last_report_at = at
        self.reports += 1

    @event("ExtensionRequested")
    def _extension_requested(
        self,
        new_deadline: dt.date,
        reason: str,
        actor: str,
        at: dt.datetime,
        files: Files = None,
        via: Via = None,
    ) -> None:
        self.pending_extension = new_deadline

    @event("ExtensionGranted")
    def _extension_granted(
        self,
        new_deadline: dt.date,
        previous_deadline: dt.date | None,
        reason: str,
        actor: str,
        at: dt.datetime,
        via: Via = None,
    ) -> None:
        self.extensions.append({"from": previous_deadline, "to": new_deadline, "at": at})
        self.deadline = new_deadline
        self.pending_extension = None

    @event("ExtensionDenied")
    def _extension_denied(self, reason: str, actor: str, at: dt.datetime, via: Via = None) -> None:
        self.pending_extension = None

    @event("CompletionSubmitted")
    def _completion_submitted(
        self,
        summary: str,
        evidence: list[str],
        actor: str,
        at: dt.datetime,
        files: Files = None,
        via: Via = None,
    ) -> None:
        self.status = TaskStatus.SUBMITTED
        self.submitted_at = at

    @event("CompletionAccepted")
    def _completion_accepted(
        self, reason: str, on_time: bool, actor: str, at: dt.datetime, via: Via = None
    ) -> None:
        self.status = TaskStatus.COMPLETED
        self.closed_at = at
        self.completed_on_time = on_time
        self.percent = 100

    @event("CompletionReturned")
    def _completion_returned(
        self, reason: str, actor: str, at: dt.datetime, via: Via = None
    ) -> None:
        self.status = TaskStatus.CLAIMED
        self.submitted_at = None

    @event("Cancelled")
    def _cancelled(self, reason: str, actor: str, at: dt.datetime, via: Via = None) -> None:
        self.status = TaskStatus.CANCELLED
        self.closed_at = at

    @event("EscalationRecorded")
    def _escalation_recorded(
        self, rung: str, target: str, due: dt.date, reminder_key: str, actor: str, at: dt.datetime
    ) -> None:
        self.escalations.append({"rung": rung, "target": target, "due": due, "at": at})

    @event("Recognised")
    def _recognised(
        self, kind: str, level: str, title: str, actor: str, at: dt.datetime, via: Via = None
    ) -> None:
        self.recognitions.append({"kind": kind, "level": level, "title": title, "at": at})

    @event("MilestoneClosed")
    def _milestone_closed(
        self, name: str, reason: str, via: str, actor: str, at: dt.datetime, through: Via = None
    ) -> None:
        self._closed_milestones = [*self.closed_milestones, name]
