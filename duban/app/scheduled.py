"""What each scheduled job does: `JOBS[name](services, now)`, keyed like `config.Schedules`.

The scheduler (scheduler/runner.py) only decides *when* and *on which node*; every job here is
idempotent on its own (ids from natural keys, one transaction per write), so a run repeated
after a restart or on a second node changes nothing.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.reminder import ChatMessage
from duban.app import report_rounds as rounds
from duban.app.ledger import Ledger
from duban.app.report_docs import markdown_parts, report_context, title_of
from duban.app.services import Services, open_ledger
from duban.app.sweep import ACTOR, sweep
from duban.settings.store import is_sqlite, sqlite_path
from notifiers.delivery import DeliveryReport, deliver_due
from projections.reports import annual_assessment, monthly_analysis, quarterly_dispatch
from scheduler.cron import next_fire_times, parse_cron

__all__ = ["JOBS", "PREVIEW_JOBS", "Job", "PreviewMessage", "preview", "run_delivery"]

log = structlog.get_logger(__name__)

Job = Callable[[Services, dt.datetime], None]


# ---- delivery ----------------------------------------------------------------------------------


def run_delivery(services: Services, now: dt.datetime) -> DeliveryReport:
    """One delivery pass over the outbox: the sweep's one coupling to delivery."""
    return deliver_due(services, now)


# ---- the jobs ----------------------------------------------------------------------------------


def sweep_job(services: Services, now: dt.datetime) -> None:
    """The ladder, then the report round's reminder (it is due on a working-day date that
    the monthly `report_round` schedule does not hit)."""
    sweep(services, now)
    rounds.remind_missing(services, now)


def deliver_job(services: Services, now: dt.datetime) -> None:
    run_delivery(services, now)


def report_round_job(services: Services, now: dt.datetime) -> None:
    """Close last month's round, open this month's, remind if already due."""
    rounds.close_due_rounds(services, now)
    rounds.open_round(services, None, now)
    rounds.remind_missing(services, now)


def _previous_month(now: dt.datetime) -> str:
    first = now.date().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


def _previous_quarter(now: dt.datetime) -> tuple[int, int]:
    quarter = (now.month - 1) // 3  # 0-based current quarter = previous quarter's number
    return (now.year, quarter) if quarter else (now.year - 1, 4)


def _post_report(services: Services, now: dt.datetime, build: str, *args: Any) -> None:
    """Build a report with projections/reports and queue it for the office chat."""
    report = _BUILDERS[build](report_context(services), *args)
    channel = services.config.office.channel
    platform = services.config.channel(channel).platform
    period = "-".join(str(a) for a in args)
    _queue(
        services,
        now,
        f"report|{build}|{period}",
        channel,
        title_of(report),
        markdown_parts(report, platform),
        "report",
    )


def _queue(
    services: Services,
    now: dt.datetime,
    key: str,
    channel: str,
    title: str,
    parts: list[str],
    kind: str,
) -> None:
    message = ChatMessage(
        message_key=key,
        channel=channel,
        kind=kind,
        title=title,
        parts=list(parts),
        mention_mobiles=[],
        reminder_keys=[],
        task_codes=[],
        actor=ACTOR,
        at=now,
    )
    try:
        services.ledger.save(message)
    except IntegrityError:
        log.info("job_message_exists", key=key)  # queued by an earlier run: once is enough


def monthly_report_job(services: Services, now: dt.datetime) -> None:
    local = now.astimezone(services.config.tz)
    _post_report(services, now, "monthly_analysis", _previous_month(local))


def quarterly_report_job(services: Services, now: dt.datetime) -> None:
    year, quarter = _previous_quarter(now.astimezone(services.config.tz))
    _post_report(services, now, "quarterly_dispatch", year, quarter)


def annual_assessment_job(services: Services, now: dt.datetime) -> None:
    _post_report(services, now, "annual_assessment", now.astimezone(services.config.tz).year - 1)


def chain_head_job(services: Services, now: dt.datetime) -> None:
    """Post the hash chain's head to the office chat: a copy outside the store's reach. Once a
    day: the message itself is an event that moves the head, so the key is the date."""
    views = services.views()
    views.catch_up(services.ledger, ["chain"])
    head = views.chain.head()
    if head is None:
        return
    local = now.astimezone(services.config.tz)
    text = (
        f"台账哈希链头：`{head.hash}`\n"
        f"位置 {head.position}，共 {head.events} 个事件（{local:%Y-%m-%d %H:%M}）"
    )
    channel = services.config.office.channel
    _queue(
        services,
        now,
        f"chain_head|{local:%Y-%m-%d}",
        channel,
        "台账防篡改校验值",
        [text],
        "chain_head",
    )


_BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "monthly_analysis": monthly_analysis,
    "quarterly_dispatch": quarterly_dispatch,
    "annual_assessment": annual_assessment,
}

JOBS: dict[str, Job] = {
    "sweep": sweep_job,
    "deliver": deliver_job,
    "report_round": report_round_job,
    "monthly_report": monthly_report_job,
    "quarterly_report": quarterly_report_job,
    "annual_assessment": annual_assessment_job,
    "chain_head": chain_head_job,
}


# ---- preview: what the jobs would send, on a copy --------------------------------------------

PREVIEW_JOBS = ("sweep", "report_round", "monthly_report", "quarterly_report", "annual_assessment")
"""Every job that queues messages, except delivery (it sends) and the daily chain head."""


@dataclass(frozen=True)
class PreviewMessage:
    """One message a job would queue: when, by which job, to which chat, with what text."""

    at: dt.datetime
    job: str
    channel: str
    kind: str
    title: str
    parts: tuple[str, ...]
    mention_mobiles: tuple[str, ...]
    task_codes: tuple[str, ...]


class _Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy (WAL included) through SQLite's own online backup."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _copy_events(source: Ledger, target: Ledger, batch: int = 2000) -> None:
    """Every stored event, as stored, into another store (PostgreSQL → temporary SQLite)."""
    rows: list[StoredEvent] = []
    for n in source.notifications(batch=batch):
        rows.append(StoredEvent(n.originator_id, n.originator_version, n.topic, n.state))
        if len(rows) == batch:
            target.recorder.insert_events(rows)
            rows = []
    if rows:
        target.recorder.insert_events(rows)


@contextmanager
def _copy_of(services: Services, clock: _Clock) -> Iterator[Services]:
    """Services over a throw-away copy of the store: nothing done to it reaches the real one."""
    with tempfile.TemporaryDirectory(prefix="duban-preview-") as folder:
        url = f"sqlite:///{Path(folder) / 'preview.db'}"
        if is_sqlite(services.config.store):
            _copy_sqlite(sqlite_path(services.config.store), sqlite_path(url))
        ledger = open_ledger(url, clock)
        if not is_sqlite(services.config.store):
            _copy_events(services.ledger, ledger)
        config = services.config.model_copy(update={"store": url})
        try:
            yield Services(config=config, ledger=ledger)
        finally:
            ledger.close()


def _ticks(
    services: Services, jobs: Sequence[str], start: dt.date, end: dt.date
) -> list[tuple[dt.datetime, str]]:
    """Every fire time of `jobs` from the start of `start` to the end of `end`, in order."""
    tz = services.config.tz
    first = dt.datetime.combine(start, dt.time(), tzinfo=tz) - dt.timedelta(microseconds=1)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    ticks: list[tuple[dt.datetime, str]] = []
    for job in jobs:
        trigger = parse_cron(getattr(services.config.schedules, job), tz)
        moment = first
        while (found := next_fire_times(trigger, moment, 1)) and found[0] < last:
            moment = found[0]
            ticks.append((moment, job))
    return sorted(ticks)


def _queued_since(services: Services, after: int) -> tuple[int, list[Any]]:
    found = [queued for _, queued in services.ledger.events_of(ChatMessage.Queued, after=after)]
    return max(after, services.ledger.recorder.max_notification_id() or 0), found


def _preview_message(at: dt.datetime, job: str, queued: Any) -> PreviewMessage:
    return PreviewMessage(
        at=at,
        job=job,
        channel=queued.channel,
        kind=queued.kind,
        title=queued.title,
        parts=tuple(queued.parts),
        mention_mobiles=tuple(queued.mention_mobiles),
        task_codes=tuple(queued.task_codes),
    )


def _run_on_copy(job: str, services: Services, at: dt.datetime) -> None:
    """A job that fails in the preview is named in the log; the rest of the window still
    shows (the scheduler treats a failing job the same way)."""
    try:
        JOBS[job](services, at)
    except Exception:
        log.exception("preview_job_failed", job=job, at=at.isoformat())


def preview(
    services: Services, start: dt.date, end: dt.date, jobs: Sequence[str] = PREVIEW_JOBS
) -> list[PreviewMessage]:
    """Every message the configured jobs would queue from `start` to `end` (inclusive),
    found by running the real jobs at their fire times on a copy of the store.

    Sweep ticks outside working hours are skipped (nothing is due then). The real store
    is only read; delivery never runs, so nothing is sent.
    """
    calendar = services.calendar
    ticks = [
        (at, job)
        for at, job in _ticks(services, jobs, start, end)
        if job != "sweep" or calendar.is_working_time(at)
    ]
    clock = _Clock(dt.datetime.combine(start, dt.time(), tzinfo=services.config.tz))
    messages: list[PreviewMessage] = []
    with _copy_of(services, clock) as copy:
        position = copy.ledger.recorder.max_notification_id() or 0
        for at, job in ticks:
            clock.now = at
            _run_on_copy(job, copy, at)
            position, queued = _queued_since(copy, position)
            messages += [_preview_message(at, job, q) for q in queued]
    return messages
