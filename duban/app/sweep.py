"""The sweep: every reminder that is due now, issued once, as one digest per chat.

PRODUCT.md rules 3-5. A sweep catches up the due index (`projections/due.py`), asks the
ladder what is due for the few tasks whose `next_check` has come, routes each reminder to the
chats of its audience, renders one digest per chat (most urgent first, split only at the
platform's size limit; these steps are `duban.app.sweep_plan`) and writes, in ONE
`ledger.save`, the `Reminder` aggregates, the `EscalationRecorded` events of 催办 and above,
and the queued `ChatMessage` per chat.

Each rung fires once because a reminder's id is its ladder key: when another node (or a
second sweep) issued some of the same reminders first, the save fails as a whole with
`IntegrityError`, and the sweep catches up the index (which now holds the other node's keys
as fired) and plans again without them. Nothing is ever queued twice.

Then the unanswered 批示 past their date are urged (`duban.app.instruction_urging`, the same
rule on a dry run); the report shows their messages and counts them (`instruction_urges`).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.calendar import WorkingCalendar
from domain.errors import DomainError
from domain.ladder import Ladder
from domain.reminder import ChatMessage, Reminder
from domain.task import ReformTask, task_id
from duban.app.documents import number_issues
from duban.app.errors import SweepError
from duban.app.instruction_urging import Urge, urge
from duban.app.notices import queue_notices
from duban.app.routing import Directory
from duban.app.services import Services, calendar_from_config
from duban.app.sweep_plan import Issue, PlannedMessage, Setting, issues_due, plan_messages
from duban.settings.config import Config
from notifiers.render import Renderer
from projections.due import DueIndex, open_due_index

__all__ = [
    "ACTOR",
    "PlannedMessage",
    "SweepError",
    "SweepReport",
    "calendar_from_config",
    "chat_messages",
    "ladder_from_config",
    "open_index",
    "sweep",
]

log = structlog.get_logger(__name__)

ACTOR = "system:duban"
MAX_ATTEMPTS = 12
BACKOFF_S = 0.005  # first wait after a conflict; doubled each time, up to BACKOFF_CAP_S
BACKOFF_CAP_S = 0.5


# ---- configuration → ladder, calendar, templates -------------------------------------------------


def ladder_from_config(config: Config) -> Ladder:
    """The configured ladder (a parsed config always holds a valid one)."""
    return config.ladder.build()


def _overrides(config: Config, calendar: WorkingCalendar) -> str:
    return config.calendar.model_dump_json() + calendar.fingerprint()


def open_index(services: Services, ladder: Ladder, calendar: WorkingCalendar) -> DueIndex:
    """The due index; a reminder counts as delivered to the lead unit at the unit's chat (the
    office's for a unit the config does not know, as `Directory.unit_route` routes it)."""
    config = services.config
    chats = {u.name: u.channel for u in config.units}
    overrides = _overrides(config, calendar)
    return open_due_index(
        services.ledger, ladder, calendar, overrides, (chats, config.office.channel)
    )


@functools.cache
def _renderer(template_dir: str | None, public_url: str | None = None) -> Renderer:
    """The digest templates: the admin's (`templates = "DIR"` in the config) over the defaults;
    with `[web] public_url` every line links to its task's page."""
    return Renderer(Path(template_dir) if template_dir else None, public_url)


def _setting(services: Services) -> Setting:
    config = services.config
    ladder = ladder_from_config(config)
    calendar = services.calendar
    index = open_index(services, ladder, calendar)
    renderer = _renderer(config.templates, config.web.public_url)
    return Setting(ladder, calendar, Directory(config), renderer, index)


# ---- the report ----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What one sweep issued: counts per rung and the messages per chat."""

    now: dt.datetime
    dry_run: bool
    tasks_checked: int = 0
    rungs: dict[str, int] = field(default_factory=dict)
    messages: list[PlannedMessage] = field(default_factory=list)
    attempts: int = 0
    # 批示催复 (duban.app.instruction_urging): the urge messages queued (due, on a dry run), one
    # per chat told of each unanswered 批示 past its date; counted as the preview counts them.
    instruction_urges: int = 0
    urge_messages: list[PlannedMessage] = field(default_factory=list)

    @property
    def issued(self) -> int:
        return sum(self.rungs.values())


# ---- writing -------------------------------------------------------------------------------------


class _StaleIndex(Exception):
    """A task the index thought open changed meanwhile: catch up and plan again."""


def _aggregates(
    services: Services,
    issues: Sequence[Issue],
    messages: Sequence[PlannedMessage],
    now: dt.datetime,
) -> list[Aggregate]:
    reminders: list[Aggregate] = [
        Reminder(
            key=i.key,
            task_code=i.task.code,
            target=i.due.target.target,
            due=i.due.target.due,
            rung=i.due.rung.name,
            seq=i.due.seq,
            audience=sorted(i.due.rung.audience),
            channels=sorted({r.channel for r in i.routes}),
            actor=ACTOR,
            at=now,
            calendar_version=services.calendar.version(
                {i.due.target.due.year, now.astimezone(services.calendar.tz).year}
            ),
        )
        for i in issues
    ]
    return [*reminders, *_escalated_tasks(services, issues, now), *chat_messages(messages, now)]


def _escalated_tasks(
    services: Services, issues: Sequence[Issue], now: dt.datetime
) -> list[Aggregate]:
    tasks: dict[str, ReformTask] = {}
    for issue in (i for i in issues if i.escalates):
        code = issue.task.code
        task = tasks.get(code) or services.ledger.repository.get(task_id(code))
        tasks[code] = task
        try:
            task.record_escalation(
                rung=issue.due.rung.name,
                target=issue.due.target.target,
                due=issue.due.target.due,
                reminder_key=issue.key,
                actor=ACTOR,
                at=now,
            )
        except DomainError as exc:
            raise _StaleIndex(code) from exc
    return list(tasks.values())


def chat_messages(
    messages: Sequence[PlannedMessage], now: dt.datetime, kind: str = "digest"
) -> list[Aggregate]:
    """The outbox entries (`ChatMessage` Queued) for planned messages."""
    return [
        ChatMessage(
            message_key=m.message_key,
            channel=m.channel,
            kind=kind,
            title=m.title,
            parts=list(m.parts),
            mention_mobiles=list(m.mention_mobiles),
            reminder_keys=list(m.reminder_keys),
            task_codes=list(m.task_codes),
            actor=ACTOR,
            at=now,
        )
        for m in messages
    ]


# ---- the sweep -----------------------------------------------------------------------------------


def _attempt(
    services: Services, setting: Setting, now: dt.datetime, report: SweepReport
) -> list[Aggregate] | None:
    """Plan against the caught-up index; the aggregates to save (None on a dry run)."""
    setting.index.catch_up(services.ledger)
    today = now.astimezone(setting.calendar.tz).date()
    tasks = setting.index.due(today) if setting.calendar.is_working_time(now) else []
    issues, documents = number_issues(services, issues_due(tasks, setting, now), now, ACTOR)
    messages = plan_messages(issues, setting, now)
    report.tasks_checked = len(tasks)
    report.rungs = dict(Counter(i.due.rung.name for i in issues))
    report.messages = messages
    if report.dry_run or not issues:
        return None
    return [*_aggregates(services, issues, messages, now), *documents]  # one save (rule 13)


def sweep(services: Services, now: dt.datetime, dry_run: bool = False) -> SweepReport:
    """Issue everything due at `now` (aware), once; with `dry_run`, only say what it would be.

    Outside working hours nothing is due. On a conflict with another writer the whole
    save is abandoned and planned again from the caught-up index.
    """
    if not dry_run:
        queue_notices(services, now)  # 交办 notices and decisions first (duban.app.notices)
    setting = _setting(services)
    report = SweepReport(now=now, dry_run=dry_run)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report.attempts = attempt
        try:
            aggregates = _attempt(services, setting, now, report)
            if aggregates:
                services.ledger.save(*aggregates)
        except (IntegrityError, _StaleIndex) as exc:
            log.info("sweep_conflict", attempt=attempt, reason=type(exc).__name__)
            # Back off, with jitter, so a steady stream of reports on the same tasks cannot
            # keep winning every race against the sweep's one transaction.
            time.sleep(min(BACKOFF_CAP_S, BACKOFF_S * 2**attempt) * random.uniform(0.5, 1.5))
            continue
        _urged(report, urge(services, now, dry_run))  # 批示催办 (issue 12)
        _log_report(report)
        return report
    local = now.astimezone(setting.calendar.tz).strftime("%Y-%m-%d %H:%M")
    raise SweepError(
        f"{local} 的提醒扫描与同时写入的办理记录冲突 {MAX_ATTEMPTS} 次，已放弃，请稍后重试"
    )


def _urged(report: SweepReport, urges: Sequence[Urge]) -> None:
    """The 批示 urges queued (or, on a dry run, due) in the report, shown as the digests are."""
    report.urge_messages = [
        PlannedMessage(
            message_key=m.message_key,
            channel=m.channel,
            title=m.title,
            parts=tuple(m.parts),
            mention_mobiles=tuple(m.mention_mobiles),
            reminder_keys=(),
            task_codes=tuple(m.task_codes),
        )
        for u in urges
        for m in u.messages
    ]
    report.instruction_urges = len(report.urge_messages)


def _log_report(report: SweepReport) -> None:
    if report.issued:
        log.info(
            "sweep_issued",
            now=report.now.isoformat(),
            dry_run=report.dry_run,
            rungs=report.rungs,
            messages={m.channel: len(m.reminder_keys) for m in report.messages},
        )
