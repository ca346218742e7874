"""The ledger: the eventsourcing application that turns validated commands into stored events.

Application methods follow get → authorize → mutate → save and return plain data, never live
aggregates. Writers racing on one task are retried after a reload while the command still
applies; when the reloaded state no longer allows it, the loser gets a `Conflict`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification, Transcoding
from eventsourcing.utils import get_topic

from domain.directory import ChannelRecord, Official, Unit
from domain.errors import DomainError, TaskNotFound
from domain.plan_review import PlanReview
from domain.roles import Action, Identity, authorize
from domain.task import ReformTask, task_id
from duban.app import commands as cmd
from duban.settings.config import Config

__all__ = ["Conflict", "ImportChange", "Ledger", "event_record"]

MAX_ATTEMPTS = 30
SYSTEM = Identity(role="system", name="duban")


class Conflict(DomainError):
    """Another writer changed the task first and the command no longer applies."""

    code = "conflict"


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


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


class Ledger(Application[UUID]):
    """督办台账: every command ends as events in one store (SQLite file or PostgreSQL)."""

    name = "duban"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "0"}
    # A task collects events for years (reports, escalations, reminders): loading it must not
    # cost its whole history, so every 50th event leaves a snapshot to start from.
    snapshotting_intervals = {ReformTask: 50}  # noqa: RUF012 (the library declares it ClassVar)

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__(env=env)
        self.clock: Callable[[], dt.datetime] = clock or (lambda: dt.datetime.now(dt.UTC))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # ---- tasks: assignment and import ----------------------------------------------------

    def assign(self, row: cmd.AssignTask, who: Identity) -> UUID:
        authorize(who, "assign")
        task = ReformTask(code=row.code, **_assignment_of(row), actor=who.actor, at=self.clock())
        self._save_new(task)
        return task.id

    def plan_import(self, rows: Sequence[cmd.AssignTask]) -> list[ImportChange]:
        return [change for change, _ in self._import_aggregates(rows, SYSTEM)]

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
                task = ReformTask(code=row.code, **facts, actor=who.actor, at=at)
                planned.append((ImportChange(row.code, "create", facts), task))
                continue
            before = len(task.pending_events)
            task.revise(facts, actor=who.actor, at=at, reason="重新导入任务清单")
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
        self._update(code, who, "claim", lambda t, at: t.claim(who.actor, at))

    def report(self, code: str, report: cmd.ReportProgress, who: Identity) -> None:
        self._update(
            code,
            who,
            "report",
            lambda t, at: t.report_progress(
                report.text, report.percent, list(report.evidence), who.actor, at
            ),
        )

    def request_extension(self, code: str, req: cmd.RequestExtension, who: Identity) -> None:
        self._update(
            code,
            who,
            "request_extension",
            lambda t, at: t.request_extension(req.new_deadline, req.reason, who.actor, at),
        )

    def grant_extension(self, code: str, decision: cmd.DecideExtension, who: Identity) -> None:
        self._update(
            code,
            who,
            "decide_extension",
            lambda t, at: t.grant_extension(decision.reason, who.actor, at, decision.new_deadline),
        )

    def deny_extension(self, code: str, decision: cmd.DecideExtension, who: Identity) -> None:
        self._update(
            code,
            who,
            "decide_extension",
            lambda t, at: t.deny_extension(decision.reason, who.actor, at),
        )

    def submit_completion(self, code: str, sub: cmd.SubmitCompletion, who: Identity) -> None:
        self._update(
            code,
            who,
            "submit",
            lambda t, at: t.submit_completion(sub.summary, list(sub.evidence), who.actor, at),
        )

    def accept_completion(self, code: str, decision: cmd.Decision, who: Identity) -> None:
        self._update(
            code, who, "accept", lambda t, at: t.accept_completion(decision.reason, who.actor, at)
        )

    def return_completion(self, code: str, decision: cmd.Decision, who: Identity) -> None:
        self._update(
            code, who, "return", lambda t, at: t.return_completion(decision.reason, who.actor, at)
        )

    def cancel(self, code: str, decision: cmd.Decision, who: Identity) -> None:
        self._update(code, who, "cancel", lambda t, at: t.cancel(decision.reason, who.actor, at))

    def recognise(self, code: str, rec: cmd.Recognise, who: Identity) -> None:
        self._update(
            code,
            who,
            "recognise",
            lambda t, at: t.recognise(rec.kind, rec.level, rec.title, who.actor, at),
        )

    def _update(
        self,
        code: str,
        who: Identity,
        action: Action,
        mutate: Callable[[ReformTask, dt.datetime], None],
    ) -> None:
        for attempt in range(MAX_ATTEMPTS):
            task = self._task(code)
            authorize(who, action, task.lead_unit, task.co_units, task.official)
            try:
                mutate(task, self.clock())
            except DomainError as exc:
                if attempt == 0:
                    raise
                raise Conflict(f"并发冲突：{exc.message}") from exc
            attempted = list(task.pending_events)
            try:
                self.save(task)
            except IntegrityError:
                if self._already_stored(attempted):
                    return  # our commit went through; only its acknowledgement was lost
                # Lost the race: back off a little (jittered, growing) and reload.
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            return
        raise Conflict(f"任务 {code} 正被频繁修改，请稍后重试")

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

    def _task(self, code: str) -> ReformTask:
        try:
            task: ReformTask = self.repository.get(task_id(code))
        except AggregateNotFoundError:
            raise TaskNotFound(f"没有编号为 {code} 的任务") from None
        return task

    def _save_new(self, aggregate: Aggregate) -> None:
        try:
            self.save(aggregate)
        except IntegrityError as exc:
            raise Conflict(f"{type(aggregate).__name__} {aggregate.id} 已存在") from exc

    # ---- reads ---------------------------------------------------------------------------

    def task(self, code: str, who: Identity) -> dict[str, Any]:
        task = self._task(code)
        authorize(who, "read", task.lead_unit, task.co_units, task.official)
        return task_state(task)

    def task_history(self, code: str, who: Identity) -> list[dict[str, Any]]:
        task = self._task(code)
        authorize(who, "read", task.lead_unit, task.co_units, task.official)
        return [event_record(e) for e in self.events.get(task.id)]

    def task_codes(self) -> list[str]:
        """Every task code, in the order tasks were first recorded (small county lists)."""
        return [event.code for _, event in self.events_of(ReformTask.Assigned)]

    # ---- scanning the notification log ----------------------------------------------------

    def notifications(
        self, after: int = 0, topics: Sequence[str] = (), batch: int = 500
    ) -> Iterator[Notification]:
        """Every stored event after position `after`, in notification order, read in batches
        (only those of `topics` when given: the store filters, nothing else is read)."""
        while found := self.recorder.select_notifications(
            after, batch, topics=topics, inclusive_of_start=False
        ):
            yield from found
            after = found[-1].id

    def events_of(self, *classes: type[DomainEvent], after: int = 0) -> Iterator[tuple[int, Any]]:
        """(position, event) for every stored event of these classes after `after`."""
        topics = [get_topic(cls) for cls in classes]
        for note in self.notifications(after, topics):
            yield note.id, self.mapper.to_domain_event(note)

    # ---- directory reconciled from the config ---------------------------------------------

    def reconcile_directory(self, config: Config, who: Identity) -> int:
        """Record config changes that affect who is told what; returns the number of events."""
        authorize(who, "admin")
        at = self.clock()
        aggregates: list[Aggregate] = []
        for unit in config.units:
            liaisons = [{"name": x.name, "mobile": x.mobile} for x in unit.liaisons]
            aggregates.append(self._unit(unit.name, unit.channel, liaisons, who, at))
        for o in config.officials:
            aggregates.append(self._official(o.name, o.title, o.mobile, o.channel, who, at))
        for channel in config.channels:
            aggregates.append(self._channel(channel.name, channel_settings(channel), who, at))
        pending = [a for a in aggregates if a.pending_events]
        count = sum(len(a.pending_events) for a in pending)
        if pending:
            self.save(*pending)
        return count

    def _unit(
        self,
        name: str,
        channel: str,
        liaisons: list[dict[str, str]],
        who: Identity,
        at: dt.datetime,
    ) -> Unit:
        try:
            unit: Unit = self.repository.get(Unit.create_id(name))
        except AggregateNotFoundError:
            return Unit(name=name, channel=channel, liaisons=liaisons, actor=who.actor, at=at)
        unit.reconcile(channel, liaisons, who.actor, at)
        return unit

    def _official(
        self, name: str, title: str, mobile: str, channel: str, who: Identity, at: dt.datetime
    ) -> Official:
        try:
            official: Official = self.repository.get(Official.create_id(name))
        except AggregateNotFoundError:
            return Official(
                name=name, title=title, mobile=mobile, channel=channel, actor=who.actor, at=at
            )
        official.reconcile(title, mobile, channel, who.actor, at)
        return official

    def _channel(
        self, name: str, settings: dict[str, Any], who: Identity, at: dt.datetime
    ) -> ChannelRecord:
        try:
            record: ChannelRecord = self.repository.get(ChannelRecord.create_id(name))
        except AggregateNotFoundError:
            return ChannelRecord(name=name, settings=settings, actor=who.actor, at=at)
        record.reconcile(settings, who.actor, at)
        return record

    # ---- 前置初审 -------------------------------------------------------------------------

    def submit_plan(
        self, plan_code: str, title: str, unit: str, task_code: str | None, who: Identity
    ) -> UUID:
        authorize(who, "submit_plan")
        plan = PlanReview(
            plan_code=plan_code,
            title=title,
            unit=unit,
            task_code=task_code,
            actor=who.actor,
            at=self.clock(),
        )
        self._save_new(plan)
        return plan.id

    def review_plan(self, plan_code: str, verdict: str, text: str, who: Identity) -> str:
        """verdict: opinion | approve | return. Returns the plan's new status."""
        authorize(who, "review_plan")
        try:
            plan: PlanReview = self.repository.get(PlanReview.create_id(plan_code))
        except AggregateNotFoundError:
            raise DomainError(f"没有编号为 {plan_code} 的方案") from None
        actions = {"opinion": plan.add_opinion, "approve": plan.approve, "return": plan.return_plan}
        actions[verdict](text, who.actor, self.clock())
        self.save(plan)
        return plan.status


def channel_settings(channel: Any) -> dict[str, Any]:
    """What the audit may know about a channel: never the key, token or secret."""
    hooks: list[str] = channel.webhooks()
    return {
        "platform": channel.platform,
        "hosts": sorted({urlsplit(h).netloc for h in hooks}),
        "robots": [hashlib.sha256(h.encode()).hexdigest()[:12] for h in hooks],
        "signed": channel.secret is not None or channel.secret_env is not None,
        # A fingerprint, so that rotating only the signing secret is recorded too.
        "secret": _fingerprint(channel.secret_value()),
        "keyword": channel.keyword,
    }


def _fingerprint(secret: str | None) -> str | None:
    return None if secret is None else hashlib.sha256(secret.encode()).hexdigest()[:12]


_STATE_FIELDS = (
    "code", "title", "area", "lead_unit", "co_units", "official", "group", "deadline",
    "assigned_deadline", "deadline_text", "milestones", "notes", "status", "claimed_by",
    "percent", "last_report_at", "reports", "pending_extension", "extensions", "submitted_at",
    "closed_at", "completed_on_time", "escalations", "recognitions",
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
