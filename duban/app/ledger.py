"""The ledger: the eventsourcing application that turns validated commands into stored events.

Application methods follow get → authorize → mutate → save and return plain data, never live
aggregates. Every event a person causes records them (`Identity.actor`) and the web session or
API token they acted through (`Identity.via`). Writers racing on one task are retried after a
reload while the command still applies; when the reloaded state no longer allows it, the loser
gets a `Conflict`.

The tasks are here; the directory reconciled from the config (`duban.app.reconcile`) and the
plans under pre-review (`duban.app.plan_reviews`) are parts of the same application, written
in their own modules on the same base (`duban.app.ledger_base`).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.document import DocumentSequence
from domain.errors import DomainError, Forbidden, TaskNotFound
from domain.roles import Action, Identity, authorize
from domain.task import ReformTask, task_id
from duban.app import commands as cmd
from duban.app.errors import Conflict
from duban.app.evidence_store import EvidenceStore, resolve
from duban.app.plan_reviews import PlanReviews
from duban.app.reconcile import DirectoryRecords
from duban.app.task_copies import TaskCopies, TaskSaved

__all__ = ["Conflict", "ImportChange", "Ledger", "TaskSaved", "event_record"]

MAX_ATTEMPTS = 30

Also = Callable[[ReformTask, dt.datetime], Sequence[Aggregate]]
"""Other aggregates a task command changes with the task (saved in its transaction)."""

_SAVING_ALSO: contextvars.ContextVar[tuple[Also, ...]] = contextvars.ContextVar(
    "duban_saving_also", default=()
)


@dataclass(frozen=True)
class ImportChange:
    """What one row of an import does: create a task, revise some facts, or nothing."""

    code: str
    action: str  # "create" | "revise" | "unchanged"
    changes: dict[str, Any] = field(default_factory=dict)


def _assignment_of(row: cmd.AssignTask) -> dict[str, Any]:
    return {
        "title": row.title,
        "area": row.area,
        "lead_unit": row.lead_unit,
        "co_units": list(row.co_units),
        "official": row.official,
        "group": row.group,
        "deadline": row.deadline,
        "deadline_text": row.deadline_text,
        "milestones": [{"name": m.name, "due": m.due} for m in row.milestones],
        "notes": row.notes,
    }


class Ledger(DirectoryRecords, TaskCopies, PlanReviews):
    """督办台账: every command ends as events in one store (SQLite file or PostgreSQL)."""

    name = "duban"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "0"}
    # A task collects events for years (reports, escalations, reminders): loading it must not
    # cost its whole history, so every 50th event leaves a snapshot to start from.
    # A year's 督办单 / 通报 sequence grows with each number the sweep gives: the same.
    snapshotting_intervals = {ReformTask: 50, DocumentSequence: 50}  # noqa: RUF012 (ClassVar)
    evidence: EvidenceStore | None = None  # where uploaded files are kept (`Services` sets it)

    @contextlib.contextmanager
    def saving_also(self, also: Also) -> Iterator[None]:
        """While active (in this context), every task command also saves what `also(task, at)`
        returns, called on each attempt after the command's own change, in the task's
        transaction (its batch, with group commit), failing and retrying with it."""
        token = _SAVING_ALSO.set((*_SAVING_ALSO.get(), also))
        try:
            yield
        finally:
            _SAVING_ALSO.reset(token)

    # ---- tasks: assignment and import ----------------------------------------------------

    def assign(self, row: cmd.AssignTask, who: Identity) -> UUID:
        authorize(who, "assign")
        facts = _assignment_of(row)
        task = ReformTask(code=row.code, **facts, actor=who.actor, at=self.clock(), via=who.via)
        self._save_new(task)
        return task.id

    def import_tasks(
        self, rows: Sequence[cmd.AssignTask], who: Identity, *, dry_run: bool = False
    ) -> list[ImportChange]:
        """All rows in one transaction: either every change is stored or none is."""
        authorize(who, "assign")
        planned = self._import_aggregates(rows, who)
        if not dry_run:
            touched = [agg for change, agg in planned if change.action != "unchanged"]
            try:
                self.save(*touched)
            except IntegrityError as exc:
                raise Conflict("导入期间任务清单被同时修改，请重新导入") from exc
        return [change for change, _ in planned]

    def _import_aggregates(
        self, rows: Sequence[cmd.AssignTask], who: Identity
    ) -> list[tuple[ImportChange, ReformTask]]:
        at = self.clock()
        existing = self._existing_tasks([row.code for row in rows])
        planned: list[tuple[ImportChange, ReformTask]] = []
        for row in rows:
            facts = _assignment_of(row)
            task = existing.get(row.code)
            if task is None:
                task = ReformTask(code=row.code, **facts, actor=who.actor, at=at, via=who.via)
                planned.append((ImportChange(row.code, "create", facts), task))
                continue
            before = len(task.pending_events)
            task.revise(facts, actor=who.actor, at=at, reason="重新导入任务清单", via=who.via)
            action = "revise" if len(task.pending_events) > before else "unchanged"
            changes = task.pending_events[-1].__dict__["changes"] if action == "revise" else {}
            planned.append((ImportChange(row.code, action, dict(changes)), task))
        return planned

    def _existing_tasks(self, codes: Iterable[str]) -> dict[str, ReformTask]:
        found: dict[str, ReformTask] = {}
        for code in codes:
            try:
                found[code] = self.repository.get(task_id(code))
            except AggregateNotFoundError:
                continue
        return found

    # ---- tasks: lifecycle ----------------------------------------------------------------

    def claim(self, code: str, who: Identity) -> None:
        self._update(code, who, "claim", lambda t, at: t.claim(who.actor, at, who.via))

    def report(
        self,
        code: str,
        report: cmd.ReportProgress,
        who: Identity,
        *,
        answering: Also | None = None,
    ) -> TaskSaved:
        """进展报送; `answering` gives the 领导批示 the report answers (`duban.app.instructions`),
        saved in the same transaction as the report. The task as saved."""
        return self._update(
            code,
            who,
            "report",
            lambda t, at: t.report_progress(
                report.text,
                report.percent,
                list(report.evidence),
                who.actor,
                at,
                milestone=report.milestone,
                files=self._files(report.files),
                via=who.via,
            ),
            also=answering,
        )

    def close_milestone(self, code: str, req: cmd.CloseMilestone, who: Identity) -> None:
        self._update(
            code,
            who,
            "close_milestone",
            lambda t, at: t.close_milestone(req.name, req.reason, "office", who.actor, at, who.via),
        )

    def request_extension(self, code: str, req: cmd.RequestExtension, who: Identity) -> None:
        self._update(
            code,
            who,
            "request_extension",
            lambda t, at: t.request_extension(
                req.new_deadline, req.reason, who.actor, at, self._files(req.files), who.via
            ),
        )

    def grant_extension(self, code: str, decision: cmd.DecideExtension, who: Identity) -> None:
        self._update(
            code,
            who,
            "decide_extension",
            lambda t, at: t.grant_extension(
                decision.reason, who.actor, at, decision.new_deadline, who.via
            ),
        )

    def deny_extension(self, code: str, decision: cmd.DecideExtension, who: Identity) -> None:
        self._update(
            code,
            who,
            "decide_extension",
            lambda t, at: t.deny_extension(decision.reason, who.actor, at, who.via),
        )

    def submit_completion(self, code: str, sub: cmd.SubmitCompletion, who: Identity) -> None:
        self._update(
            code,
            who,
            "submit",
            lambda t, at: t.submit_completion(
                sub.summary, list(sub.evidence), who.actor, at, self._files(sub.files), who.via
            ),
        )

    def _files(self, choices: Sequence[cmd.FileChoice]) -> list[dict[str, Any]] | None:
        """The event's `files`, resolved once the caller may act (so 404/403 come first)."""
        return resolve(self.evidence, choices) or None

    def accept_completion(self, code: str, decision: cmd.Decision, who: Identity) -> None:
        self._update(
            code,
            who,
            "accept",
            lambda t, at: t.accept_completion(decision.reason, who.actor, at, who.via),
        )

    def return_completion(self, code: str, decision: cmd.Decision, who: Identity) -> None:
        self._update(
            code,
            who,
            "return",
            lambda t, at: t.return_completion(decision.reason, who.actor, at, who.via),
        )

    def cancel(self, code: str, decision: cmd.Decision, who: Identity) -> None:
        self._update(
            code, who, "cancel", lambda t, at: t.cancel(decision.reason, who.actor, at, who.via)
        )

    def recognise(self, code: str, rec: cmd.Recognise, who: Identity) -> None:
        self._update(
            code,
            who,
            "recognise",
            lambda t, at: t.recognise(rec.kind, rec.level, rec.title, who.actor, at, who.via),
        )

    def _update(
        self,
        code: str,
        who: Identity,
        action: Action,
        mutate: Callable[[ReformTask, dt.datetime], None],
        also: Also | None = None,
    ) -> TaskSaved:
        """Load, mutate, save; `also` (run after `mutate`, on each attempt) gives other
        aggregates it changed to save in the same transaction as the task (so do the
        `saving_also` hooks active in this context). The first attempt starts from this
        process's copy of the task (`duban.app.task_copies`); a refusal decided on it is
        decided again on the stored task, as is every later attempt. What the task is once
        saved (`TaskSaved`), read before the task is handed on as the copy."""
        hooks = _SAVING_ALSO.get()
        extra = (also, *hooks) if also is not None else hooks
        committer = self.group_commit
        fresh, races = not self.has_copy(code), 0
        for _ in range(MAX_ATTEMPTS):
            with committer.preparing() if committer else contextlib.nullcontext():
                task: ReformTask | None = None
                try:
                    with self.taking(optimistic=not fresh):
                        task = self._task_for(code, who, action)  # 404, then 403
                    at = self.clock()
                    mutate(task, at)
                    others = [agg for hook in extra for agg in hook(task, at)] if extra else []
                except DomainError as exc:
                    if task is not None and not task.pending_events:
                        self._remember(task)  # refused before any change: still the copy
                    if not fresh:  # decided on our copy: decide it on the stored task
                        fresh = True
                        continue
                    if not races or isinstance(exc, Forbidden | TaskNotFound):
                        raise
                    raise Conflict(f"并发冲突：{exc.message}") from exc
                attempted = list(task.pending_events)
                try:
                    self.save(task, *others)
                except IntegrityError:
                    if self._already_stored(attempted):
                        return TaskSaved.of(task)  # committed; only its acknowledgement was lost
                    if not fresh and not self._task_moved(attempted):
                        races += 1  # the copy was current: another aggregate lost the race
                else:
                    saved = TaskSaved.of(task)
                    self._remember(task)
                    return saved
            if fresh:  # lost a race: back off a little (jittered, growing) and reload
                races += 1
                time.sleep(random.uniform(0, 0.002 * races))
            fresh = True  # (a stale copy lost: reload at once)
        raise Conflict(f"任务 {code} 正被频繁修改，请稍后重试")

    def _task_moved(self, attempted: list[Any]) -> bool:
        """True when the version the task's first new event wanted is taken in the store: the
        copy the attempt started from was overtaken (by a change made before or meanwhile)."""
        if not attempted:
            return True
        first = attempted[0]
        return bool(
            list(self.events.get(first.originator_id, gt=first.originator_version - 1, limit=1))
        )

    def _already_stored(self, attempted: list[Any]) -> bool:
        """True when the events we tried to save are stored as they were: the database
        committed, then the connection broke, and the driver's retry hit our own rows. Every
        event carries its creation timestamp and `at`, so another writer's cannot be equal."""
        if not attempted:
            return False
        first = attempted[0]
        stored = list(
            self.events.get(
                first.originator_id,
                gt=first.originator_version - 1,
                lte=attempted[-1].originator_version,
            )
        )
        return [e.__dict__ for e in stored] == [e.__dict__ for e in attempted]

    # ---- reads ---------------------------------------------------------------------------

    def task(self, code: str, who: Identity) -> dict[str, Any]:
        return task_state(self._task_for(code, who, "read_details"))

    def task_history(self, code: str, who: Identity) -> list[dict[str, Any]]:
        task = self._task_for(code, who, "read_details")
        return [event_record(e) for e in self.events.get(task.id)]

    def task_codes(self) -> list[str]:
        """Every task code, in the order tasks were first recorded (small county lists)."""
        return [event.code for _, event in self.events_of(ReformTask.Assigned)]


_STATE_FIELDS = (
    "code", "title", "area", "lead_unit", "co_units", "official", "group", "deadline",
    "assigned_deadline", "deadline_text", "milestones", "notes", "status", "claimed_by",
    "percent", "last_report_at", "reports", "pending_extension", "extensions", "submitted_at",
    "closed_at", "completed_on_time", "escalations", "recognitions", "closed_milestones",
    "co_unit_reports",
)  # fmt: skip


def task_state(task: ReformTask) -> dict[str, Any]:
    state = {name: getattr(task, name) for name in _STATE_FIELDS}
    state["version"] = task.version
    return state


def event_record(event: Any) -> dict[str, Any]:
    """A stored event as plain data: its type, position in the aggregate and every field."""
    data = dict(event.__dict__)
    return {
        "type": type(event).__qualname__,
        "originator_id": str(data.pop("originator_id")),
        "version": data.pop("originator_version"),
        "recorded_at": data.pop("timestamp"),
        **data,
    }
